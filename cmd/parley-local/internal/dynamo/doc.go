// Package dynamo is the local stack's DynamoDB: an in-memory engine of its
// own behind a write path that adds durability, streams and TTL, serving
// DynamoDB's JSON protocol (and the DynamoDB Streams API) in-process.
//
// Until issue 14 the engine was github.com/truora/minidyn v0.8.2, called
// in-process behind a layer of fixes. Its defects sat in its core (an
// interpreter that fails a comparison across types, evaluates numbers in
// float64 and errs on a function of a missing attribute; a JSON encoder
// that drops empty lists and maps; indexes kept as a list beside a map that
// go stale when a put drops an index key; no pages, segments, legacy
// parameters or capacity), and working around each from outside had grown
// into scratch tables, re-run queries and patched replies while a peer
// conformance suite still failed two thirds of its tests. So the store now
// keeps its tables itself:
//
//   - engine.go: each table's items by key, grouped into partitions in sort
//     key order, each secondary index as partitions of its own, updated by
//     the same write; a Scan walks partitions in the order of a hash of
//     their key, so Segment and TotalSegments split it into disjoint ranges;
//   - value.go, number.go: attribute values decoded and checked (one type,
//     no empty or duplicated set, NULL true) and numbers as exact decimals
//     with DynamoDB's 38 digits and range; empty strings, binaries, lists
//     and maps kept as they are;
//   - expr.go, eval.go: DynamoDB's expression language parsed with its
//     checks (syntax, reserved words, undefined and unused names and values,
//     function placement, path depth, 4 KB and 300-operator limits,
//     redundant parentheses, type errors the values alone show) and
//     evaluated with its semantics: a comparison across types or of
//     something that is not there is false and <> its negation; updates read
//     every operand before acting, SET past a list's end appends in index
//     order, removing a last member leaves an empty map or list;
//   - legacy.go: Expected, AttributeUpdates, KeyConditions, QueryFilter,
//     ScanFilter, AttributesToGet and ConditionalOperator, as the
//     expressions they stand for, refused when mixed with expressions;
//   - request.go, write.go, read.go: the operations, with the checks
//     DynamoDB makes (keys of the schema and within 2048 and 1024 bytes,
//     names, the 400 KB item, ReturnValues, Select against the projection,
//     ExclusiveStartKey, segments, batch and transaction limits); Query and
//     Scan pages cut at Limit or 1 MB; a local index fetching from its table
//     what it does not project; TransactWriteItems idempotent for ten
//     minutes by ClientRequestToken, an invalid item a ValidationError
//     cancellation reason;
//   - capacity.go: ConsumedCapacity counted as DynamoDB counts it, TOTAL or
//     INDEXES, with read and write units; a write refused by its condition
//     reports its units in ConsumedCapacityHeader;
//   - table.go: CreateTable, UpdateTable (one global index created or
//     deleted, streams, billing), DeleteTable, DescribeTable (with
//     TableSizeBytes, ItemCount, TableId, IndexArn), ListTables, TTL;
//   - streamsapi.go: ListStreams, DescribeStream, GetShardIterator and
//     GetRecords over the streams, with their paging and limits, so one
//     reader serves this store, DynamoDB Local and AWS.
//
// parity_*_test.go run the same SDK calls against the store and Amazon
// DynamoDB Local and demand the same answers; what still differs is marked
// there and listed below.
//
// Writes (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
// TransactWriteItems) are serialized under writeMu. Each is checked whole,
// then evaluated against the items as they are; nothing changes until all
// of it succeeded, then the changed items are appended to the write-ahead
// log, applied to the table and its indexes, and streamed, in that order.
// A batch or a transaction is applied whole or not at all. Reads share
// writeMu, so none sees a write half applied.
//
// With Options.Dir set, the data survives restarts: each acknowledged write
// is appended to a write-ahead log (length-prefixed, CRC-checked after-image
// records) before it is answered, and the log is fsynced every
// FlushInterval, so a killed process loses nothing acknowledged and a
// crashed machine at most the last interval. A torn tail is cut off on
// replay. Replay reads the snapshot and the whole log first, then creates
// each table once and puts each item once (Store.CheckIndexes compares
// every index with its table; the recovery tests run it). When the log
// grows large, and on Close, a snapshot of every table and item is written
// atomically and a new log begins.
//
// Stream records are kept in memory only, for 24 hours and up to 100000 per
// table: they do not survive a restart. Sequence numbers are seeded from the
// clock, so those after a restart still sort after those before.
//
// Not emulated: GSI eventual consistency (an index is up to date when the
// write is answered), TTL's rule that items expired more than five years
// ago are left alone, the 16 MB reply limit of BatchGetItem (its
// UnprocessedKeys are always empty), PartiQL (ExecuteStatement and kin),
// backups, global tables, tags, and item collection metrics of local
// indexes (ReturnItemCollectionMetrics is accepted and answers nothing).
//
// Where DynamoDB Local departs from DynamoDB's documentation, the store
// follows the documentation, and the parity cases show it (marked known,
// or the step left out): a transaction's writes are charged twice and its
// condition checks as transactional reads (DynamoDB Local: four times and
// nothing); a read of nothing costs its minimum (DynamoDB Local: a Query or
// a BatchGetItem of a missing item costs nothing); DescribeTable has a
// TableId; KeyConditions with NE is a ValidationException (DynamoDB Local:
// 500); 1E-129 - 1E-130 reads 9E-130 as a plain decimal and zero is 0
// (DynamoDB Local spells zero with 130 decimals); an update that sets an
// index key of the wrong type is refused (DynamoDB Local accepts it in a
// transaction); a transaction updating a key attribute is refused with a
// ValidationException (DynamoDB Local cancels it with one reason for
// however many actions).
//
// Known differences that remain: error messages are DynamoDB's where the
// store knows them and close to them elsewhere (the parity cases compare
// error types); DynamoDB Local answers every request whatever its
// signature, and so does the store.
package dynamo
