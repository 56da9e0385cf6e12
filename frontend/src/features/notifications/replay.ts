// Which stored inbound messages POST /api/inbox/:id/replay applies again,
// shared by the Notifications page and the subscription's actions.

/**
 * AWS queue notifications are applied again; Microsoft webhook calls are
 * confirmed with Microsoft (Get Operation) again first, and only what
 * Microsoft confirms is acted on.
 */
export const REPLAYABLE_SOURCES = ['aws_sqs', 'azure_webhook'] as const;

/**
 * Why the server refuses to replay a message of this source (its 409), or
 * null when it may be replayed. A source not known here is offered: the
 * server's answer then says why not.
 */
export function replayRefusal(source: string): string | null {
  switch (source) {
    case 'aws_registration':
    case 'azure_landing':
      return 'The marketplace’s purchase token works for the buyer’s visit only; the buyer opens the product from the marketplace again.';
    default:
      return null;
  }
}

/** What a replay of a message of this source does, for its confirmation. */
export function replayEffect(source: string): string {
  if (source === 'azure_webhook')
    return 'Marketgate asks Microsoft to confirm the operation again (Get Operation) and acts only on what Microsoft reports: a call Microsoft does not confirm changes nothing.';
  return 'Marketgate applies it again, as if it had just arrived.';
}
