// Filtered lists kept until the store next changes. A client walking `/v2/apps?q=diego:false` over
// 50,000 apps asks for 500 pages of the same list; filtering every app for every page made each page
// cost O(all apps) and the whole walk O(pages × apps), CPU-bound on the API's one event loop. With the
// list kept, a page costs a slice and its bytes. Any committed write bumps the store's generation,
// which drops every list at once, so an answer never reflects an older store than it would have.
export class ListCache<T> {
  private generation = -1
  private readonly lists = new Map<string, readonly T[]>()

  /**
   * @param source whose `generation` changes with every committed write
   * @param maxLists lists kept per generation; the oldest goes first, so many one-off queries (a
   *   lookup by name per app) cannot grow the cache without bound
   */
  constructor(
    private readonly source: { readonly generation: number },
    private readonly maxLists = 32,
  ) {}

  /** The list under `key`, built by `build` unless it was built since the store last changed. */
  get(key: string, build: () => readonly T[]): readonly T[] {
    const generation = this.source.generation
    if (generation !== this.generation) {
      this.lists.clear()
      this.generation = generation
    }
    const kept = this.lists.get(key)
    if (kept) return kept
    // A build that throws (a bad filter value) keeps nothing: the next request throws the same way.
    const list = build()
    if (this.lists.size >= this.maxLists) this.lists.delete(this.lists.keys().next().value!)
    this.lists.set(key, list)
    return list
  }

  get size(): number {
    return this.lists.size
  }
}
