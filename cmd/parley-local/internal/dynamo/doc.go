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
//   - errors in DynamoDB's wire shape, so the SDK decodes typed errors.
//
// Writes (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
// TransactWriteItems) are serialized. Each reads the images of the items it
// names before and after minidyn applies it; the items that changed become
// log records and stream records. Reads go straight to minidyn.
//
// With Options.Dir set, the data survives restarts: each acknowledged write
// is appended to a write-ahead log (length-prefixed, CRC-checked after-image
// records) before it is answered, and the log is fsynced every
// FlushInterval, so a killed process loses nothing acknowledged and a
// crashed machine at most the last interval. A torn tail is cut off on
// replay. When the log grows large, and on Close, a snapshot of every table
// and item is written atomically and a new log begins.
//
// Stream records are kept in memory only, for 24 hours and up to 100000 per
// table: they do not survive a restart. Sequence numbers are seeded from the
// clock, so those after a restart still sort after those before.
//
// Not emulated: DynamoDB Streams' own API (ListStreams, GetRecords...),
// consumed capacity, GSI eventual consistency, and TTL's rule that items
// expired more than five years ago are left alone.
//
// Known minidyn limit passed through: its JSON encoder drops empty lists and
// maps, so an attribute stored as {"L":[]} or {"M":{}} reads back as {},
// which the SDK decodes as a nil AttributeValue (it is stored correctly, and
// logged and replayed as minidyn reports it).
package dynamo
