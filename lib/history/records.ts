import "server-only";

// One shape for a CRM record, whether the backfill lists it, a sweep finds it or live capture fetches it — otherwise
// the first diff after the backfill reports fields one read never returned as "changed". Every type is read through
// crm.item.list with select ["*"] (lib/history/items.ts): the one select with which a lead's, contact's or company's
// multifields (`fm`) arrive (b24restdocs crm/universal/object-fields.md#select), custom fields included. Live capture
// reads records by an `@id` (IN) filter: 50 records per command, up to 50 commands per batch request — 2 500 records
// per request instead of one `crm.item.get` each.
export type CrmRecord = Record<string, unknown>;
