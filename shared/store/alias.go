package store

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// DynamoDB reserves hundreds of words as attribute names in expressions
// ("status", "name", "capacity", "connections" among them). The store writes
// its expressions with plain attribute names for readability; aliasDB turns
// every one into a #placeholder on the way out, so no expression can trip
// over a reserved word.
type aliasDB struct{ DB }

var expressionWords = map[string]bool{
	"SET": true, "REMOVE": true, "ADD": true, "DELETE": true, "AND": true, "OR": true, "NOT": true,
	"BETWEEN": true, "IN": true,
}

// alias rewrites the attribute names of the expressions in place and returns
// names with their placeholders added.
func alias(names map[string]string, exprs ...*string) map[string]string {
	for _, e := range exprs {
		if e == nil || *e == "" {
			continue
		}
		s := *e
		var b strings.Builder
		for i := 0; i < len(s); {
			c := s[i]
			if !isIdentStart(c) {
				b.WriteByte(c)
				i++
				continue
			}
			j := i
			for j < len(s) && isIdentPart(s[j]) {
				j++
			}
			word := s[i:j]
			prev := byte(0)
			if i > 0 {
				prev = s[i-1]
			}
			next := strings.TrimLeft(s[j:], " ")
			switch {
			case prev == ':' || prev == '#', expressionWords[strings.ToUpper(word)], strings.HasPrefix(next, "("):
				b.WriteString(word) // a placeholder, a keyword or a function
			default:
				ph := "#" + word
				if names == nil {
					names = map[string]string{}
				}
				if have, ok := names[ph]; ok && have != word {
					ph = "#a_" + word
				}
				names[ph] = word
				b.WriteString(ph)
			}
			i = j
		}
		*e = b.String()
	}
	return names
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func (a aliasDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if in.ProjectionExpression != nil {
		in.ExpressionAttributeNames = alias(in.ExpressionAttributeNames, in.ProjectionExpression)
	}
	return a.DB.GetItem(ctx, in, opts...)
}

func (a aliasDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if in.ConditionExpression != nil {
		in.ExpressionAttributeNames = alias(in.ExpressionAttributeNames, in.ConditionExpression)
	}
	return a.DB.PutItem(ctx, in, opts...)
}

func (a aliasDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	in.ExpressionAttributeNames = alias(in.ExpressionAttributeNames, in.UpdateExpression, in.ConditionExpression)
	return a.DB.UpdateItem(ctx, in, opts...)
}

func (a aliasDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	if in.ConditionExpression != nil {
		in.ExpressionAttributeNames = alias(in.ExpressionAttributeNames, in.ConditionExpression)
	}
	return a.DB.DeleteItem(ctx, in, opts...)
}

func (a aliasDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	in.ExpressionAttributeNames = alias(in.ExpressionAttributeNames, in.KeyConditionExpression, in.FilterExpression, in.ProjectionExpression)
	return a.DB.Query(ctx, in, opts...)
}

func (a aliasDB) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	if in.FilterExpression != nil || in.ProjectionExpression != nil {
		in.ExpressionAttributeNames = alias(in.ExpressionAttributeNames, in.FilterExpression, in.ProjectionExpression)
	}
	return a.DB.Scan(ctx, in, opts...)
}

func (a aliasDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		switch {
		case it.Put != nil && it.Put.ConditionExpression != nil:
			it.Put.ExpressionAttributeNames = alias(it.Put.ExpressionAttributeNames, it.Put.ConditionExpression)
		case it.Update != nil:
			it.Update.ExpressionAttributeNames = alias(it.Update.ExpressionAttributeNames, it.Update.UpdateExpression, it.Update.ConditionExpression)
		case it.Delete != nil && it.Delete.ConditionExpression != nil:
			it.Delete.ExpressionAttributeNames = alias(it.Delete.ExpressionAttributeNames, it.Delete.ConditionExpression)
		case it.ConditionCheck != nil:
			it.ConditionCheck.ExpressionAttributeNames = alias(it.ConditionCheck.ExpressionAttributeNames, it.ConditionCheck.ConditionExpression)
		}
	}
	return a.DB.TransactWriteItems(ctx, in, opts...)
}
