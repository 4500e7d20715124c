// Package dynamo is the local stack's DynamoDB: github.com/truora/minidyn's
// server, called in-process, behind a write path that adds what Parley needs
// and minidyn lacks.
//
// Added on top of minidyn v0.8.2:
//   - ListTables, UpdateTimeToLive and DescribeTimeToLive;
//   - CreateTable's table name rules; DescribeTable (and the CreateTable,
//     UpdateTable and DeleteTable answers) with AttributeDefinitions,
//     TableStatus, TableArn, CreationDateTime, and the stream fields;
//   - StreamSpecification on CreateTable and UpdateTable, and a Stream per
//     table: INSERT, MODIFY and REMOVE records with the images the view type
//     asks for, in commit order, none for a write that changed nothing;
//   - TTL: every Options.TTLInterval, items whose TTL attribute (epoch
//     seconds) has passed are deleted, and the REMOVE record names the
//     DynamoDB service as its author. Until then they stay readable;
//   - the 400 KB item limit; ReturnValuesOnConditionCheckFailure ALL_OLD for
//     PutItem, DeleteItem and transaction actions; PutItem's ReturnValues
//     (minidyn always returns the new item); BatchWriteItem checked whole
//     before anything is written (minidyn stops halfway);
//   - errors in DynamoDB's wire shape, so the SDK decodes typed errors;
//   - the checks DynamoDB makes and minidyn does not: key schemas (HASH
//     first, no unused attribute definitions), empty or duplicated sets,
//     numbers that do not parse, undefined expression values, overlapping
//     update paths, empty key values, index keys of the wrong type or
//     empty, duplicate BatchGetItem keys, ReturnValues PutItem and
//     DeleteItem do not take, key conditions, filters on key attributes,
//     ConsistentRead on a global index, unknown indexes;
//   - numbers stored as DynamoDB stores them (1.50 reads back as 1.5);
//   - UpdateItem's and DeleteItem's ReturnValues computed from the item's
//     images; every failed condition of a cancelled transaction reported;
//   - Query pages as DynamoDB cuts them (sort key order of every type,
//     Limit before the filter, LastEvaluatedKey whenever Limit is reached,
//     ScannedCount, no items for Select COUNT), and Scan's ScannedCount;
//   - updates that work (index.go): minidyn ignores REMOVE, corrupts a
//     secondary index when an update brings an item into it, keeps an item
//     on an index after a put drops its key, creates a set on DELETE from a
//     missing one and leaves emptied sets behind; updates are evaluated on
//     scratch tables and applied as delete+put;
//   - the DynamoDB Streams API (ListStreams, DescribeStream,
//     GetShardIterator, GetRecords) over the streams (streamsapi.go), so one
//     reader serves this store, DynamoDB Local and AWS.
//
// parity_*_test.go run the same SDK calls against the store and Amazon
// DynamoDB Local and demand the same answers; what still differs is marked
// there and listed below.
//
// Writes (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
// TransactWriteItems) are serialized. Each reads the images of the items it
// names before and after minidyn applies it; the items that changed become
// log records and stream records. Reads share the write lock, so none sees
// a write half applied.
//
// With Options.Dir set, the data survives restarts: each acknowledged write
// is appended to a write-ahead log (length-prefixed, CRC-checked after-image
// records) before it is answered, and the log is fsynced every
// FlushInterval, so a killed process loses nothing acknowledged and a
// crashed machine at most the last interval. A torn tail is cut off on
// replay. Replay reads the snapshot and the whole log before it touches
// minidyn, then creates each table once and puts each item once, so every
// index holds exactly what its table's items project into it
// (Store.CheckIndexes compares them; the recovery tests run it). When the log grows large, and on Close, a snapshot of every table
// and item is written atomically and a new log begins.
//
// Stream records are kept in memory only, for 24 hours and up to 100000 per
// table: they do not survive a restart. Sequence numbers are seeded from the
// clock, so those after a restart still sort after those before.
//
// Not emulated: consumed capacity, GSI eventual consistency, and TTL's rule that items
// expired more than five years ago are left alone.
//
// Known differences from DynamoDB (minidyn behaviour, kept as parity cases):
//   - a condition comparing values of different types (n < :s, n a number
//     and :s a string) fails the request with a ValidationException, where
//     DynamoDB evaluates it as false (ConditionalCheckFailedException);
//   - a Scan with a FilterExpression reports the items it read as
//     ScannedCount only without Limit and ExclusiveStartKey; with either,
//     ScannedCount is Count.
//
// Known minidyn limit passed through: its JSON encoder drops empty lists and
// maps, so an attribute stored as {"L":[]} or {"M":{}} reads back as {},
// which the SDK decodes as a nil AttributeValue (it is stored correctly, and
// logged and replayed as minidyn reports it).
package dynamo
