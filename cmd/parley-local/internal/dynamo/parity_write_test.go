package dynamo

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// expr is the expression part of a write.
type expr struct {
	cond, update string
	names        map[string]string
	vals         map[string]types.AttributeValue
	rv           types.ReturnValue
	allOld       bool // ReturnValuesOnConditionCheckFailure ALL_OLD
}

func (e expr) label(op string) string {
	l := op
	if e.update != "" {
		l += " " + e.update
	}
	if e.cond != "" {
		l += " if " + e.cond
	}
	if e.rv != "" {
		l += " returning " + string(e.rv)
	}
	return l
}

func (e expr) onFailure() types.ReturnValuesOnConditionCheckFailure {
	if e.allOld {
		return types.ReturnValuesOnConditionCheckFailureAllOld
	}
	return ""
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func (s *side) putItem(ctx context.Context, table string, it map[string]types.AttributeValue, e expr) {
	out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it,
		ConditionExpression: optional(e.cond), ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.vals,
		ReturnValues: e.rv, ReturnValuesOnConditionCheckFailure: e.onFailure()})
	s.record(e.label("PutItem "+render(it)), out, err)
}

func (s *side) updateItem(ctx context.Context, table string, key map[string]types.AttributeValue, e expr) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key,
		UpdateExpression: optional(e.update), ConditionExpression: optional(e.cond),
		ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.vals,
		ReturnValues: e.rv, ReturnValuesOnConditionCheckFailure: e.onFailure()})
	s.record(e.label("UpdateItem "+render(key)), out, err)
}

func (s *side) deleteItem(ctx context.Context, table string, key map[string]types.AttributeValue, e expr) {
	out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key,
		ConditionExpression: optional(e.cond), ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.vals,
		ReturnValues: e.rv, ReturnValuesOnConditionCheckFailure: e.onFailure()})
	s.record(e.label("DeleteItem "+render(key)), out, err)
}

// doc is the item most write cases start from.
func doc() map[string]types.AttributeValue {
	return item("pk", "a", "n", 5, "s", "hello", "tags", strSet("x", "y"), "nums", numSet(1, 2),
		"l", list("p", 1), "m", mapOf("k", "v", "deep", mapOf("z", 1)), "flag", true, "nothing", null())
}

// conditions runs one condition on a PutItem, UpdateItem and DeleteItem of
// the doc item, each failure asking for the old item.
func conditions(cond string, vals map[string]types.AttributeValue, nm map[string]string) func(ctx context.Context, s *side) {
	return func(ctx context.Context, s *side) {
		tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
		s.seed(ctx, tbl, doc())
		e := expr{cond: cond, vals: vals, names: nm, allOld: true}
		s.updateItem(ctx, tbl, item("pk", "a"), expr{cond: e.cond, vals: withVal(vals, ":new", "v"), names: nm, allOld: true, update: "SET touched = :new"})
		s.show(ctx, tbl, item("pk", "a"))
		s.putItem(ctx, tbl, doc(), e)
		s.deleteItem(ctx, tbl, item("pk", "a"), e)
		s.show(ctx, tbl, item("pk", "a"))
	}
}

func withVal(vals map[string]types.AttributeValue, name string, v any) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{name: av(v)}
	for k, x := range vals {
		out[k] = x
	}
	return out
}

// Condition expressions on PutItem, UpdateItem and DeleteItem.
func TestParityConditions(t *testing.T) {
	v := func(kv ...any) map[string]types.AttributeValue { return item(kv...) }
	cases := []parityCase{
		{name: "attribute_exists true", run: conditions("attribute_exists(pk)", nil, nil)},
		{name: "attribute_exists false", run: conditions("attribute_exists(missing)", nil, nil)},
		{name: "attribute_not_exists false", run: conditions("attribute_not_exists(pk)", nil, nil)},
		{name: "attribute_not_exists true", run: conditions("attribute_not_exists(missing)", nil, nil)},
		{name: "number greater", run: conditions("n > :v", v(":v", 4), nil)},
		{name: "number not greater", run: conditions("n > :v", v(":v", 5), nil)},
		{name: "number less or equal", run: conditions("n <= :v", v(":v", 5), nil)},
		{name: "not equal", run: conditions("s <> :v", v(":v", "hello"), nil)},
		{name: "number against string", run: conditions("n < :v", v(":v", "9"), nil)},
		{name: "missing attribute compared", run: conditions("missing < :v", v(":v", 9), nil)},
		{name: "size of set", run: conditions("size(tags) = :v", v(":v", 2), nil)},
		{name: "size of string", run: conditions("size(s) > :v", v(":v", 5), nil)},
		{name: "size of list and map", run: conditions("size(l) = :two AND size(m) = :two", v(":two", 2), nil)},
		{name: "begins_with true", run: conditions("begins_with(s, :p)", v(":p", "hel"), nil)},
		{name: "begins_with false", run: conditions("begins_with(s, :p)", v(":p", "xhel"), nil)},
		{name: "IN true", run: conditions("n IN (:a, :b)", v(":a", 4, ":b", 5), nil)},
		{name: "IN false", run: conditions("n IN (:a, :b)", v(":a", 4, ":b", 6), nil)},
		{name: "BETWEEN true", run: conditions("n BETWEEN :lo AND :hi", v(":lo", 5, ":hi", 9), nil)},
		{name: "BETWEEN false", run: conditions("n BETWEEN :lo AND :hi", v(":lo", 6, ":hi", 9), nil)},
		{name: "contains in set", run: conditions("contains(tags, :x)", v(":x", "x"), nil)},
		{name: "contains in string", run: conditions("contains(s, :x)", v(":x", "ell"), nil)},
		{name: "attribute_type", run: conditions("attribute_type(nums, :t)", v(":t", "NS"), nil)},
		{name: "nested path", run: conditions("m.deep.z = :one AND l[1] = :one", v(":one", 1), nil)},
		{name: "NOT OR parentheses", run: conditions("NOT (n = :a OR s = :s) AND flag = :t", v(":a", 1, ":s", "bye", ":t", true), nil)},
		{name: "NULL and BOOL", run: conditions("attribute_type(nothing, :null) AND flag = :f", v(":null", "NULL", ":f", false), nil)},
		{name: "names", run: conditions("#s = :v", v(":v", "hello"), names("#s", "s"))},
		{name: "reserved word without a name", run: conditions("status = :v", v(":v", "x"), nil)},
		{name: "reserved word through a name", run: conditions("attribute_not_exists(#status)", nil, names("#status", "status"))},
		{name: "unused value", run: conditions("attribute_exists(pk)", v(":unused", 1), nil)},
		{name: "unused name", run: conditions("attribute_exists(pk)", nil, names("#unused", "x"))},
		{name: "undefined value", run: conditions("n = :missing", nil, nil)},
		{name: "undefined name", run: conditions("#missing = :v", v(":v", 1), nil)},
		{name: "syntax error", run: conditions("n = = :v", v(":v", 1), nil)},
		{name: "values without expression", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.putItem(ctx, tbl, item("pk", "a"), expr{vals: item(":v", 1)})
			s.putItem(ctx, tbl, item("pk", "a"), expr{names: names("#n", "n")})
			s.show(ctx, tbl, item("pk", "a"))
		}},
		{name: "condition on a missing item", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			e := expr{cond: "attribute_exists(pk)", allOld: true}
			s.putItem(ctx, tbl, item("pk", "a"), e)
			s.updateItem(ctx, tbl, item("pk", "a"), expr{update: "SET n = :one", vals: item(":one", 1), cond: e.cond, allOld: true})
			s.deleteItem(ctx, tbl, item("pk", "a"), e)
			s.putItem(ctx, tbl, item("pk", "a", "n", 1), expr{cond: "attribute_not_exists(pk)"})
			s.putItem(ctx, tbl, item("pk", "a", "n", 2), expr{cond: "attribute_not_exists(pk)", allOld: true})
			s.show(ctx, tbl, item("pk", "a"))
		}},
		{name: "return values on put and delete", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.putItem(ctx, tbl, item("pk", "a", "n", 1), expr{rv: types.ReturnValueAllOld})
			s.putItem(ctx, tbl, item("pk", "a", "n", 2), expr{rv: types.ReturnValueAllOld})
			s.putItem(ctx, tbl, item("pk", "a", "n", 3), expr{rv: types.ReturnValueNone})
			s.putItem(ctx, tbl, item("pk", "a", "n", 4), expr{rv: types.ReturnValueAllNew})
			s.deleteItem(ctx, tbl, item("pk", "a"), expr{rv: types.ReturnValueUpdatedOld})
			s.deleteItem(ctx, tbl, item("pk", "a"), expr{rv: types.ReturnValueAllOld})
			s.deleteItem(ctx, tbl, item("pk", "a"), expr{rv: types.ReturnValueAllOld})
		}},
	}
	runParity(t, cases)
}

// Update expressions: SET, REMOVE, ADD, DELETE and what UpdateItem returns.
func TestParityUpdates(t *testing.T) {
	update := func(u string, vals map[string]types.AttributeValue, nm map[string]string) func(ctx context.Context, s *side) {
		return func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			for _, rv := range []types.ReturnValue{types.ReturnValueAllNew, types.ReturnValueUpdatedNew, types.ReturnValueAllOld, types.ReturnValueUpdatedOld, types.ReturnValueNone} {
				s.seed(ctx, tbl, doc())
				s.updateItem(ctx, tbl, item("pk", "a"), expr{update: u, vals: vals, names: nm, rv: rv})
			}
			s.show(ctx, tbl, item("pk", "a"))
		}
	}
	v := func(kv ...any) map[string]types.AttributeValue { return item(kv...) }
	cases := []parityCase{
		{name: "SET values", run: update("SET s = :s, added = :a, m.k = :s, l[0] = :s", v(":s", "new", ":a", 7), nil)},
		{name: "SET arithmetic", run: update("SET n = n + :one, minus = :ten - n", v(":one", 1, ":ten", 10), nil)},
		{name: "SET arithmetic on a missing attribute", run: update("SET missing = missing + :one", v(":one", 1), nil)},
		{name: "SET if_not_exists", run: update("SET n = if_not_exists(n, :z), fresh = if_not_exists(fresh, :z)", v(":z", 0), nil)},
		{name: "SET list_append", run: update("SET l = list_append(l, :more), l2 = list_append(if_not_exists(l2, :empty), :more)",
			v(":more", list("q"), ":empty", list()), nil)},
		{name: "SET list_append on a missing list", run: update("SET nolist = list_append(nolist, :more)", v(":more", list("q")), nil)},
		{name: "SET the same value", run: update("SET s = :s", v(":s", "hello"), nil)},
		{name: "REMOVE", run: update("REMOVE s, m.k, l[0], missing", nil, nil)},
		{name: "REMOVE and SET", run: update("SET fresh = :v REMOVE n, flag", v(":v", "x"), nil)},
		{name: "ADD number and set", run: update("ADD n :one, tags :more, counter :one, newset :more", v(":one", 1, ":more", strSet("z")), nil)},
		{name: "ADD to a string", run: update("ADD s :one", v(":one", 1), nil)},
		{name: "DELETE from a set", run: update("DELETE tags :x", v(":x", strSet("x")), nil)},
		{name: "DELETE the last elements of a set", run: update("DELETE tags :xy, nums :n", v(":xy", strSet("x", "y"), ":n", numSet(1, 2)), nil)},
		{name: "DELETE from a missing set", run: update("DELETE noset :x", v(":x", strSet("x")), nil)},
		{name: "all clauses", run: update("SET s = :s ADD n :one REMOVE flag DELETE tags :x", v(":s", "all", ":one", 1, ":x", strSet("x")), nil)},
		{name: "names", run: update("SET #s = :v REMOVE #n", v(":v", "x"), names("#s", "s", "#n", "n"))},
		{name: "key attribute", run: update("SET pk = :v", v(":v", "b"), nil)},
		{name: "two clauses on one attribute", run: update("SET s = :v REMOVE s", v(":v", "b"), nil)},
		{name: "reserved word without a name", run: update("SET status = :v", v(":v", "x"), nil)},
		{name: "reserved word in REMOVE", run: update("REMOVE name", nil, nil)},
		{name: "unused value", run: update("SET s = :v", v(":v", "x", ":unused", 1), nil)},
		{name: "unused name", run: update("SET s = :v", v(":v", "x"), names("#unused", "x"))},
		{name: "empty set value", run: update("SET tags = :v", v(":v", strSet()), nil)},
		{name: "empty string value", run: update("SET s = :v", v(":v", ""), nil)},
		{name: "upsert", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.updateItem(ctx, tbl, item("pk", "new"), expr{update: "SET n = if_not_exists(n, :z) + :one ADD c :one", vals: item(":z", 0, ":one", 1), rv: types.ReturnValueAllOld})
			s.updateItem(ctx, tbl, item("pk", "new2"), expr{update: "ADD c :one", vals: item(":one", 1), rv: types.ReturnValueAllNew})
			s.updateItem(ctx, tbl, item("pk", "new3"), expr{update: "REMOVE gone", rv: types.ReturnValueAllNew})
			s.show(ctx, tbl, item("pk", "new"))
			s.show(ctx, tbl, item("pk", "new3"))
		}},
		{name: "failed condition returns the old item", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.seed(ctx, tbl, doc())
			s.updateItem(ctx, tbl, item("pk", "a"), expr{update: "SET n = :v", cond: "n = :old", vals: item(":v", 6, ":old", 4), allOld: true})
			s.updateItem(ctx, tbl, item("pk", "a"), expr{update: "SET n = :v", cond: "n = :old", vals: item(":v", 6, ":old", 4)})
			s.updateItem(ctx, tbl, item("pk", "a"), expr{update: "SET n = :v", cond: "n = :old", vals: item(":v", 6, ":old", 5), rv: types.ReturnValueUpdatedOld})
		}},
	}
	runParity(t, cases)
}

// Items: keys, empty values, sizes.
func TestParityItems(t *testing.T) {
	runParity(t, []parityCase{
		{name: "empty string in a key", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", rng: "sk:S"})
			s.putItem(ctx, tbl, item("pk", "", "sk", "x"), expr{})
			s.putItem(ctx, tbl, item("pk", "a", "sk", ""), expr{})
			s.putItem(ctx, tbl, item("pk", "a", "sk", "x", "e", ""), expr{})
			s.show(ctx, tbl, item("pk", "a", "sk", "x"))
			_, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl), Key: item("pk", "", "sk", "x")})
			s.record("GetItem empty key", nil, err)
		}},
		{name: "empty string in an index key", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", gsis: []gsiSpec{{name: "byG", hash: "g:S"}}})
			s.putItem(ctx, tbl, item("pk", "a", "g", ""), expr{})
			s.updateItem(ctx, tbl, item("pk", "b"), expr{update: "SET g = :e", vals: item(":e", "")})
			s.show(ctx, tbl, item("pk", "a"))
			s.show(ctx, tbl, item("pk", "b"))
		}},
		{name: "key of the wrong type or missing", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.putItem(ctx, tbl, item("pk", 1), expr{})
			s.putItem(ctx, tbl, item("id", "a"), expr{})
			_, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl), Key: item("pk", "a", "extra", "x")})
			s.record("GetItem key with an extra attribute", nil, err)
		}},
		{name: "index key of the wrong type", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", gsis: []gsiSpec{{name: "byG", hash: "g:S"}}})
			s.putItem(ctx, tbl, item("pk", "a", "g", 1), expr{})
			s.show(ctx, tbl, item("pk", "a"))
		}},
		{name: "empty list and map", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.putItem(ctx, tbl, item("pk", "a", "l", list(), "m", mapOf(), "nested", mapOf("l", list())), expr{})
			s.show(ctx, tbl, item("pk", "a"))
		}},
		{name: "empty set", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.putItem(ctx, tbl, item("pk", "a", "ss", strSet()), expr{})
			s.putItem(ctx, tbl, item("pk", "a", "ss", strSet("x", "x")), expr{})
			s.show(ctx, tbl, item("pk", "a"))
		}},
		{name: "item size limit", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.putItem(ctx, tbl, item("pk", "big", "v", strings.Repeat("x", 410*1024)), expr{})
			s.putItem(ctx, tbl, item("pk", "fits", "v", strings.Repeat("x", 390*1024)), expr{})
			s.updateItem(ctx, tbl, item("pk", "fits"), expr{update: "SET w = :v", vals: item(":v", strings.Repeat("y", 20*1024))})
			out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl), Key: item("pk", "fits"), ProjectionExpression: aws.String("pk, w")})
			s.record("GetItem fits", out, err)
		}},
		{name: "numbers", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
			s.putItem(ctx, tbl, item("pk", "a", "a", n("1.50"), "b", n("007"), "c", n("-0"), "d", n("1e3")), expr{})
			s.show(ctx, tbl, item("pk", "a"))
			s.putItem(ctx, tbl, item("pk", "b", "a", n("x1")), expr{})
		}},
		{name: "projection", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.seed(ctx, tbl, doc())
			out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl), Key: item("pk", "a"), ProjectionExpression: aws.String("n, m.k, l[1], missing")})
			s.record("GetItem projected", out, err)
			out, err = s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl), Key: item("pk", "a"), ProjectionExpression: aws.String("#s"), ExpressionAttributeNames: names("#s", "s")})
			s.record("GetItem projected through a name", out, err)
			out, err = s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl), Key: item("pk", "a"), ProjectionExpression: aws.String("name")})
			s.record("GetItem projecting a reserved word", out, err)
		}},
	})
}
