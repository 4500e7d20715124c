package stack

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// accesses are the IAM actions a DynamoDB request needs, each with the
// resource it acts on ("parley-conversations" or
// "parley-conversations/index/queueKeys"), as IAM checks them: a transaction
// needs the action of each item it writes, a batch the action on each
// table. A function's policy must grant every one its invocations make.
func accesses(input any) []string {
	var out []string
	add := func(action string, table *string, index *string) {
		if table == nil {
			return
		}
		r := *table
		if index != nil && *index != "" {
			r += "/index/" + *index
		}
		out = append(out, action+" "+r)
	}
	switch in := input.(type) {
	case *dynamodb.GetItemInput:
		add("GetItem", in.TableName, nil)
	case *dynamodb.PutItemInput:
		add("PutItem", in.TableName, nil)
	case *dynamodb.UpdateItemInput:
		add("UpdateItem", in.TableName, nil)
	case *dynamodb.DeleteItemInput:
		add("DeleteItem", in.TableName, nil)
	case *dynamodb.QueryInput:
		add("Query", in.TableName, in.IndexName)
	case *dynamodb.ScanInput:
		add("Scan", in.TableName, in.IndexName)
	case *dynamodb.BatchGetItemInput:
		for table := range in.RequestItems {
			add("BatchGetItem", &table, nil)
		}
	case *dynamodb.BatchWriteItemInput:
		for table := range in.RequestItems {
			add("BatchWriteItem", &table, nil)
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range in.TransactItems {
			transactItem(it, add)
		}
	case *dynamodb.TransactGetItemsInput:
		for _, it := range in.TransactItems {
			if it.Get != nil {
				add("GetItem", it.Get.TableName, nil)
			}
		}
	}
	return out
}

func transactItem(it types.TransactWriteItem, add func(string, *string, *string)) {
	switch {
	case it.Put != nil:
		add("PutItem", it.Put.TableName, nil)
	case it.Update != nil:
		add("UpdateItem", it.Update.TableName, nil)
	case it.Delete != nil:
		add("DeleteItem", it.Delete.TableName, nil)
	case it.ConditionCheck != nil:
		add("ConditionCheckItem", it.ConditionCheck.TableName, nil)
	}
}
