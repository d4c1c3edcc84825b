import { describe, expect, it } from 'vitest'
import type { StepStatus } from '../../../src/ui/dashboard/model.js'
import { isFailing, tableView } from '../../../src/ui/dashboard/table.js'
import { aFleet, aFleetOfRows, anAppRow } from './support.js'

const rows = aFleet([
  anAppRow({ name: 'checkout-web', org: 'acme', space: 'prod', memoryMb: 1024, instances: 3 }),
  anAppRow({ name: 'auth-api', org: 'globex', space: 'dev', memoryMb: 256, backend: 'diego' }),
  anAppRow({ name: 'cart-worker', org: 'acme', space: 'dev', memoryMb: 512, instances: 1 }),
])
const names = (view: number[]) => view.map((i) => rows.name[i]!)
const none = new Map<string, StepStatus>()

describe('the app table view', () => {
  it('sorts by name, and reverses', () => {
    expect(names(tableView(rows, none, '', { key: 'name', descending: false }))).toEqual([
      'auth-api',
      'cart-worker',
      'checkout-web',
    ])
    expect(names(tableView(rows, none, '', { key: 'name', descending: true }))).toEqual([
      'checkout-web',
      'cart-worker',
      'auth-api',
    ])
  })

  it('sorts by memory and by instances', () => {
    expect(names(tableView(rows, none, '', { key: 'memory', descending: true }))[0]).toBe('checkout-web')
    expect(names(tableView(rows, none, '', { key: 'instances', descending: false }))[0]).toBe('cart-worker')
  })

  it('keeps the rows whose name, org/space, backend or step match every word', () => {
    expect(names(tableView(rows, none, 'acme', { key: 'name', descending: false }))).toEqual([
      'cart-worker',
      'checkout-web',
    ])
    expect(names(tableView(rows, none, 'acme dev', { key: 'name', descending: false }))).toEqual(['cart-worker'])
    expect(names(tableView(rows, none, 'diego', { key: 'name', descending: false }))).toEqual(['auth-api'])
  })

  it('leaves out what a !word matches', () => {
    expect(names(tableView(rows, none, '!acme', { key: 'name', descending: false }))).toEqual(['auth-api'])
  })

  it('finds failing apps by their step, and puts them first when sorted by step', () => {
    const steps = new Map<string, StepStatus>([
      ['guid-cart-worker', { state: 'failed', error: 'not healthy on diego within 3 min' }],
      ['guid-auth-api', { state: 'done', error: null }],
    ])
    expect(names(tableView(rows, steps, 'failing', { key: 'name', descending: false }))).toEqual(['cart-worker'])
    expect(names(tableView(rows, steps, '', { key: 'step', descending: false }))).toEqual([
      'cart-worker',
      'auth-api',
      'checkout-web',
    ])
    expect(isFailing(steps.get('guid-cart-worker'))).toBe(true)
    expect(isFailing(steps.get('guid-auth-api'))).toBe(false)
  })

  it('shows the backend a step event reported before the next poll', () => {
    const steps = new Map<string, StepStatus>([['guid-checkout-web', { state: 'verifying', error: null, diego: true }]])
    expect(names(tableView(rows, steps, 'diego', { key: 'name', descending: false }))).toEqual([
      'auth-api',
      'checkout-web',
    ])
  })

  it('filters and sorts 50,000 rows', () => {
    const big = aFleet(aFleetOfRows(50_000))
    const view = tableView(big, none, 'org-7 !space-17', { key: 'memory', descending: true })
    expect(view.length).toBe(500)
    const place = (i: number) => big.places[big.place[i]!]!
    expect(view.every((i) => place(i).org === 'org-7' && place(i).space !== 'space-17')).toBe(true)
    for (let i = 1; i < view.length; i++)
      expect(big.memoryMb[view[i - 1]!]).toBeGreaterThanOrEqual(big.memoryMb[view[i]!]!)
  })
})
