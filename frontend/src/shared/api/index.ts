// The portal's one API module: `api.<resource>.<call>()` for every endpoint,
// `queryKeys` for every cache entry, the wire types, and the error type.
export * as api from './endpoints';
export { queryKeys, staleAfter, invalidateAll } from './queryKeys';
export { ApiError, query, setUnauthenticatedHandler, setReauthenticateHandler, connection, isUnreachable, UNREACHABLE, type FieldError } from './client';
export type * from './types';
