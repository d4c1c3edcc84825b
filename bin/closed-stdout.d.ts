export function treatClosedStdoutAsDevNull(): void
