import { type Intent } from '@blueprintjs/core';
import { api, queryKeys, type TypeInfo, type DeliveryStatus } from '../../shared/api';

export const listQuery = { queryKey: queryKeys.webhooks, queryFn: api.webhooks.list };
export const DELIVERY_PAGE = 50;
export const TEST_EVENT = 'webhook.test';

// The types an endpoint can choose: the test event goes only where it is sent.
export const choosable = (types: TypeInfo[]) => types.filter((t) => t.type !== TEST_EVENT);

export const statusIntent: Record<DeliveryStatus, Intent> = { pending: 'warning', succeeded: 'success', failed: 'danger' };
