package dynamo

// Parity cases for issue 14's themes 9 to 12: local indexes, the legacy
// parameters, numbers, and the input checks DynamoDB makes.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Theme 9: what a Query or Scan of an index returns, by Select and
// projection.
func TestParityIndexProjections(t *testing.T) {
	v := func(kv ...any) map[string]types.AttributeValue { return item(kv...) }
	def := tableDefinition{hash: "pk:S", rng: "sk:N",
		lsis: []gsiSpec{{name: "keys", rng: "a:S", proj: types.ProjectionTypeKeysOnly}, {name: "incl", rng: "b:S", proj: types.ProjectionTypeInclude, include: []string{"x"}}, {name: "all", rng: "c:S"}},
		gsis: []gsiSpec{{name: "gkeys", hash: "g:S", proj: types.ProjectionTypeKeysOnly}, {name: "gincl", hash: "h:S", proj: types.ProjectionTypeInclude, include: []string{"x"}}}}
	seedIt := func(ctx context.Context, s *side) string {
		tbl := s.create(ctx, "t", def)
		s.seed(ctx, tbl, item("pk", "p", "sk", 1, "a", "a1", "b", "b1", "c", "c1", "g", "g1", "h", "h1", "x", "x1", "y", "y1"))
		return tbl
	}
	runParity(t, []parityCase{
		{name: "local index selects", run: func(ctx context.Context, s *side) {
			tbl := seedIt(ctx, s)
			for _, ix := range []struct{ name, key string }{{"keys", "a"}, {"incl", "b"}, {"all", "c"}} {
				for _, sel := range []types.Select{"", types.SelectAllAttributes, types.SelectAllProjectedAttributes, types.SelectCount} {
					s.query(ctx, fmt.Sprintf("%s select %q", ix.name, sel), &dynamodb.QueryInput{TableName: aws.String(tbl), IndexName: aws.String(ix.name),
						KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: v(":p", "p"), Select: sel})
				}
				s.query(ctx, ix.name+" projecting y and x", &dynamodb.QueryInput{TableName: aws.String(tbl), IndexName: aws.String(ix.name),
					KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: v(":p", "p"), ProjectionExpression: aws.String("y, x, " + ix.key)})
				s.query(ctx, ix.name+" filtering on y", &dynamodb.QueryInput{TableName: aws.String(tbl), IndexName: aws.String(ix.name),
					KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String("y = :y"), ExpressionAttributeValues: v(":p", "p", ":y", "y1")})
				s.scan(ctx, ix.name+" select ALL_ATTRIBUTES", &dynamodb.ScanInput{TableName: aws.String(tbl), IndexName: aws.String(ix.name), Select: types.SelectAllAttributes})
			}
		}},
		{name: "global index selects", run: func(ctx context.Context, s *side) {
			tbl := seedIt(ctx, s)
			for _, ix := range []struct{ name, key string }{{"gkeys", "g"}, {"gincl", "h"}} {
				for _, sel := range []types.Select{"", types.SelectAllAttributes, types.SelectAllProjectedAttributes} {
					s.query(ctx, fmt.Sprintf("%s select %q", ix.name, sel), &dynamodb.QueryInput{TableName: aws.String(tbl), IndexName: aws.String(ix.name),
						KeyConditionExpression: aws.String(ix.key + " = :k"), ExpressionAttributeValues: v(":k", ix.key+"1"), Select: sel})
				}
				s.query(ctx, ix.name+" projecting y", &dynamodb.QueryInput{TableName: aws.String(tbl), IndexName: aws.String(ix.name),
					KeyConditionExpression: aws.String(ix.key + " = :k"), ExpressionAttributeValues: v(":k", ix.key+"1"), ProjectionExpression: aws.String("y, pk")})
			}
		}},
		{name: "select rules", run: func(ctx context.Context, s *side) {
			tbl := seedIt(ctx, s)
			q := func(what string, sel types.Select, proj string) {
				s.query(ctx, what, &dynamodb.QueryInput{TableName: aws.String(tbl), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: v(":p", "p"),
					Select: sel, ProjectionExpression: optional(proj)})
			}
			q("SPECIFIC_ATTRIBUTES without a projection", types.SelectSpecificAttributes, "")
			q("SPECIFIC_ATTRIBUTES with a projection", types.SelectSpecificAttributes, "x")
			q("COUNT with a projection", types.SelectCount, "x")
			q("ALL_ATTRIBUTES with a projection", types.SelectAllAttributes, "x")
			q("ALL_PROJECTED_ATTRIBUTES of the table", types.SelectAllProjectedAttributes, "")
		}},
	})
}

// Theme 10: the legacy parameters, implemented as DynamoDB implements them
// (never ignored), and refused when mixed with expressions.
func TestParityLegacyParameters(t *testing.T) {
	runParity(t, []parityCase{
		{name: "Expected", run: func(ctx context.Context, s *side) {
			s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.raw(ctx, "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"a"},"n":{"N":"1"},"s":{"S":"x"}}}`)
			for _, c := range []struct{ what, op, body string }{
				{"delete whose Expected fails", "DeleteItem", `{"TableName":"$t","Key":{"pk":{"S":"a"}},"Expected":{"n":{"Value":{"N":"2"}}}}`},
				{"delete expecting absence", "DeleteItem", `{"TableName":"$t","Key":{"pk":{"S":"a"}},"Expected":{"n":{"Exists":false}}}`},
				{"put expecting absence of the key", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"a"}},"Expected":{"pk":{"Exists":false}}}`},
				{"put expecting a value", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"a"},"n":{"N":"2"},"s":{"S":"x"}},"Expected":{"n":{"Value":{"N":"1"},"Exists":true}},"ReturnValues":"ALL_OLD"}`},
				{"update with operators OR", "UpdateItem", `{"TableName":"$t","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET m = :v","ExpressionAttributeValues":{":v":{"N":"1"}},"Expected":{"n":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"5"}]}}}`},
				{"update with AttributeUpdates and operators", "UpdateItem", `{"TableName":"$t","Key":{"pk":{"S":"a"}},"AttributeUpdates":{"m":{"Value":{"N":"1"},"Action":"PUT"}},"Expected":{"n":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"5"}]},"s":{"ComparisonOperator":"BEGINS_WITH","AttributeValueList":[{"S":"x"}]}},"ConditionalOperator":"OR","ReturnValues":"ALL_NEW"}`},
				{"every operator", "UpdateItem", `{"TableName":"$t","Key":{"pk":{"S":"a"}},"AttributeUpdates":{"ok":{"Value":{"BOOL":true}}},"ReturnValues":"UPDATED_NEW","Expected":{
					"n":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"1"},{"N":"3"}]},
					"s":{"ComparisonOperator":"IN","AttributeValueList":[{"S":"x"},{"S":"y"}]},
					"pk":{"ComparisonOperator":"NOT_NULL"},
					"missing":{"ComparisonOperator":"NULL"},
					"nope":{"ComparisonOperator":"NE","AttributeValueList":[{"S":"z"}]}}}`},
				{"NOT_CONTAINS of an absent attribute", "UpdateItem", `{"TableName":"$t","Key":{"pk":{"S":"a"}},"AttributeUpdates":{"ok2":{"Value":{"BOOL":true}}},"Expected":{"missing":{"ComparisonOperator":"NOT_CONTAINS","AttributeValueList":[{"S":"z"}]}}}`},
				{"wrong number of values", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"b"}},"Expected":{"n":{"ComparisonOperator":"EQ","AttributeValueList":[]}}}`},
				{"Exists true without a value", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"b"}},"Expected":{"n":{"Exists":true}}}`},
				{"LT of a set", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"b"}},"Expected":{"n":{"ComparisonOperator":"LT","AttributeValueList":[{"SS":["a"]}]}}}`},
				{"Expected with ConditionExpression", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"b"}},"Expected":{"n":{"Exists":false}},"ConditionExpression":"attribute_not_exists(pk)"}`},
				{"ConditionalOperator without Expected", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"b"}},"ConditionalOperator":"OR"}`},
			} {
				s.rawNote(ctx, c.what, c.op, c.body, "Attributes")
				s.rawNote(ctx, "then GetItem", "GetItem", `{"TableName":"$t","Key":{"pk":{"S":"a"}},"ConsistentRead":true}`, "Item")
			}
		}},
		{name: "AttributeUpdates", run: func(ctx context.Context, s *side) {
			s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.raw(ctx, "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"a"},"n":{"N":"1"},"ss":{"SS":["x","y"]},"gone":{"S":"g"}}}`)
			for _, c := range []struct{ what, body string }{
				{"PUT, ADD, DELETE", `{"TableName":"$t","Key":{"pk":{"S":"a"}},"AttributeUpdates":{"s":{"Value":{"S":"new"},"Action":"PUT"},"n":{"Value":{"N":"2"},"Action":"ADD"},"ss":{"Value":{"SS":["x"]},"Action":"DELETE"},"gone":{"Action":"DELETE"},"fresh":{"Value":{"SS":["z"]},"Action":"ADD"}},"ReturnValues":"ALL_NEW"}`},
				{"on a new item", `{"TableName":"$t","Key":{"pk":{"S":"b"}},"AttributeUpdates":{"n":{"Value":{"N":"2"},"Action":"ADD"}},"ReturnValues":"ALL_NEW"}`},
				{"ADD of a list", `{"TableName":"$t","Key":{"pk":{"S":"a"}},"AttributeUpdates":{"l":{"Value":{"L":[{"S":"x"}]},"Action":"ADD"}},"ReturnValues":"ALL_NEW"}`},
				{"PUT without a value", `{"TableName":"$t","Key":{"pk":{"S":"a"}},"AttributeUpdates":{"s":{"Action":"PUT"}}}`},
				{"the key", `{"TableName":"$t","Key":{"pk":{"S":"a"}},"AttributeUpdates":{"pk":{"Value":{"S":"z"},"Action":"PUT"}}}`},
				{"with an UpdateExpression", `{"TableName":"$t","Key":{"pk":{"S":"a"}},"AttributeUpdates":{"s":{"Value":{"S":"x"}}},"UpdateExpression":"SET t = :v","ExpressionAttributeValues":{":v":{"S":"y"}}}`},
				{"with a ConditionExpression", `{"TableName":"$t","Key":{"pk":{"S":"a"}},"AttributeUpdates":{"s":{"Value":{"S":"x"}}},"ConditionExpression":"attribute_exists(pk)"}`},
			} {
				s.rawNote(ctx, c.what, "UpdateItem", c.body, "Attributes")
			}
		}},
		{name: "KeyConditions, QueryFilter, ScanFilter, AttributesToGet", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", rng: "sk:N"})
			for i := 1; i <= 6; i++ {
				s.seed(ctx, tbl, item("pk", "p", "sk", i, "odd", i%2 == 1, "x", fmt.Sprint("x", i)))
			}
			for _, c := range []struct{ what, op, body string }{
				{"KeyConditions", "Query", `{"TableName":"$t","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"p"}]},"sk":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"3"}]}}}`},
				{"KeyConditions BETWEEN with AttributesToGet", "Query", `{"TableName":"$t","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"p"}]},"sk":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"2"},{"N":"4"}]}},"AttributesToGet":["x"]}`},
				{"QueryFilter", "Query", `{"TableName":"$t","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"p"}]}},"QueryFilter":{"odd":{"ComparisonOperator":"EQ","AttributeValueList":[{"BOOL":true}]},"x":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"x2"}]}},"ConditionalOperator":"OR"}`},
				{"KeyConditions with KeyConditionExpression", "Query", `{"TableName":"$t","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"p"}]}},"KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p"}}}`},
				{"QueryFilter with FilterExpression", "Query", `{"TableName":"$t","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p"},":t":{"BOOL":true}},"QueryFilter":{"odd":{"ComparisonOperator":"EQ","AttributeValueList":[{"BOOL":true}]}},"FilterExpression":"odd = :t"}`},
				{"AttributesToGet with ProjectionExpression", "Query", `{"TableName":"$t","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p"}},"AttributesToGet":["x"],"ProjectionExpression":"x"}`},
				{"ScanFilter", "Scan", `{"TableName":"$t","ScanFilter":{"sk":{"ComparisonOperator":"LE","AttributeValueList":[{"N":"2"}]},"x":{"ComparisonOperator":"CONTAINS","AttributeValueList":[{"S":"5"}]}},"ConditionalOperator":"OR"}`},
				{"ScanFilter and AttributesToGet", "Scan", `{"TableName":"$t","ScanFilter":{"odd":{"ComparisonOperator":"EQ","AttributeValueList":[{"BOOL":false}]}},"AttributesToGet":["sk"]}`},
				{"GetItem AttributesToGet", "GetItem", `{"TableName":"$t","Key":{"pk":{"S":"p"},"sk":{"N":"1"}},"AttributesToGet":["x","missing"]}`},
				{"Select SPECIFIC_ATTRIBUTES with AttributesToGet", "Query", `{"TableName":"$t","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"p"}]}},"AttributesToGet":["sk"],"Select":"SPECIFIC_ATTRIBUTES","Limit":2}`},
			} {
				s.rawNote(ctx, c.what, c.op, c.body, "Items", "Item", "Count", "ScannedCount")
			}
		}},
	})
}

// Theme 11: numbers keep 38 significant digits and DynamoDB's range.
func TestParityNumbers(t *testing.T) {
	n := func(x string) types.AttributeValue { return &types.AttributeValueMemberN{Value: x} }
	runParity(t, []parityCase{
		{name: "precision and range", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			for i, x := range []string{
				"12345678901234567890123456789012345678", "1234567890123456789012345678901234567.8", "0.000000000000000000000000000000000000012345678901234567890123456789012345678",
				"123456789012345678901234567890123456789", "9.9999999999999999999999999999999999999E+125", "1E+126", "1E-130", "1E-131", "-1E-130", "-9.9999999999999999999999999999999999999E+125",
				"100000000000000000000000000000000000000000", "0.1000000000000000000000000000000000000000",
			} {
				s.putItem(ctx, tbl, item("pk", fmt.Sprint("n", i), "v", n(x)), expr{})
				s.show(ctx, tbl, item("pk", fmt.Sprint("n", i)))
			}
			s.putItem(ctx, tbl, item("pk", "set", "v", &types.AttributeValueMemberNS{Value: []string{"12345678901234567890123456789012345678", "12345678901234567890123456789012345677"}}), expr{})
			s.show(ctx, tbl, item("pk", "set"))
		}},
		{name: "arithmetic", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			for _, c := range []struct {
				start string
				op    string
				by    string
			}{
				{"0.1", "+", "0.2"}, {"12345678901234567890123456789012345678", "+", "1"}, {"99999999999999999999999999999999999999", "+", "1"},
				{"9.9999999999999999999999999999999999999E+125", "+", "9.9999999999999999999999999999999999999E+125"}, {"1", "-", "0.0000000000000000000000000000000000000001"},
				{"1E-129", "-", "1E-130"}, {"5", "-", "12345678901234567890.123456789"},
			} {
				s.seed(ctx, tbl, item("pk", "a", "v", n(c.start)))
				s.updateItem(ctx, tbl, item("pk", "a"), expr{update: "SET v = v " + c.op + " :by", vals: item(":by", n(c.by)), rv: types.ReturnValueUpdatedNew})
				s.seed(ctx, tbl, item("pk", "a", "v", n(c.start)))
				if c.op == "+" {
					s.updateItem(ctx, tbl, item("pk", "a"), expr{update: "ADD v :by", vals: item(":by", n(c.by)), rv: types.ReturnValueUpdatedNew})
				}
			}
			s.seed(ctx, tbl, item("pk", "a", "v", &types.AttributeValueMemberNS{Value: []string{"12345678901234567890123456789012345678"}}))
			s.updateItem(ctx, tbl, item("pk", "a"), expr{update: "ADD v :by", vals: item(":by", &types.AttributeValueMemberNS{Value: []string{"12345678901234567890123456789012345677"}}), rv: types.ReturnValueUpdatedNew})
			s.updateItem(ctx, tbl, item("pk", "a"), expr{update: "DELETE v :by", vals: item(":by", &types.AttributeValueMemberNS{Value: []string{"12345678901234567890123456789012345677"}}), rv: types.ReturnValueUpdatedNew})
		}},
		{name: "comparisons", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", rng: "sk:N"})
			for _, x := range []string{"12345678901234567890123456789012345678", "12345678901234567890123456789012345677", "-1E-130", "1E-130", "0"} {
				s.seed(ctx, tbl, item("pk", "p", "sk", n(x), "v", n(x)))
			}
			s.pages(ctx, "all in order", dynamodb.QueryInput{TableName: aws.String(tbl), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: item(":p", "p")})
			s.pages(ctx, "sort key above", dynamodb.QueryInput{TableName: aws.String(tbl), KeyConditionExpression: aws.String("pk = :p AND sk > :v"), ExpressionAttributeValues: item(":p", "p", ":v", n("12345678901234567890123456789012345677"))})
			s.pages(ctx, "filter equal", dynamodb.QueryInput{TableName: aws.String(tbl), KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String("v = :v"), ExpressionAttributeValues: item(":p", "p", ":v", n("12345678901234567890123456789012345677"))})
		}},
	})
}

// Theme 12: the input checks DynamoDB makes.
func TestParityInputChecks(t *testing.T) {
	long := func(n int) string { return strings.Repeat("k", n) }
	runParity(t, []parityCase{
		{name: "name and key lengths", run: func(ctx context.Context, s *side) {
			s.create(ctx, "t", tableDefinition{hash: "pk:S", rng: "sk:S"})
			for _, c := range []struct{ what, op, body string }{
				{"partition key of 2048 bytes", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"` + long(2048) + `"},"sk":{"S":"a"}}}`},
				{"partition key of 2049 bytes", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"` + long(2049) + `"},"sk":{"S":"a"}}}`},
				{"sort key of 1024 bytes", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"a"},"sk":{"S":"` + long(1024) + `"}}}`},
				{"sort key of 1025 bytes", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"a"},"sk":{"S":"` + long(1025) + `"}}}`},
				{"get with a key of 2049 bytes", "GetItem", `{"TableName":"$t","Key":{"pk":{"S":"` + long(2049) + `"},"sk":{"S":"a"}}}`},
				{"attribute name of 65535 bytes", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"a"},"sk":{"S":"b"},"` + long(65535) + `":{"S":"v"}}}`},
				{"attribute name of 65536 bytes", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"a"},"sk":{"S":"b"},"` + long(65536) + `":{"S":"v"}}}`},
				{"empty attribute name", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"a"},"sk":{"S":"b"},"":{"S":"v"}}}`},
				{"name placeholder of 256 bytes", "GetItem", `{"TableName":"$t","Key":{"pk":{"S":"a"},"sk":{"S":"a"}},"ProjectionExpression":"#` + long(255) + `","ExpressionAttributeNames":{"#` + long(255) + `":"x"}}`},
				{"table name of 256 bytes", "GetItem", `{"TableName":"` + long(256) + `","Key":{"pk":{"S":"a"}}}`},
			} {
				s.rawNote(ctx, c.what, c.op, c.body)
			}
		}},
		{name: "expression size and nesting", run: func(ctx context.Context, s *side) {
			s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			deep := func(n int) string {
				parts := make([]string, n)
				for i := range parts {
					parts[i] = "a"
				}
				return strings.Join(parts, ".")
			}
			ors := func(n int) string {
				parts := make([]string, n)
				for i := range parts {
					parts[i] = "a = :v"
				}
				return strings.Join(parts, " OR ")
			}
			for _, c := range []struct{ what, body string }{
				{"condition of 4096 bytes", `"ConditionExpression":"attribute_not_exists(` + long(4096-len("attribute_not_exists()")) + `)"`},
				{"condition of 4097 bytes", `"ConditionExpression":"attribute_not_exists(` + long(4097-len("attribute_not_exists()")) + `)"`},
				{"path 32 deep", `"ConditionExpression":"attribute_not_exists(` + deep(32) + `)"`},
				{"path 33 deep", `"ConditionExpression":"attribute_not_exists(` + deep(33) + `)"`},
				{"300 operators", `"ConditionExpression":"` + ors(150) + ` AND ` + ors(150) + `","ExpressionAttributeValues":{":v":{"S":"x"}}`},
				{"301 operators", `"ConditionExpression":"` + ors(151) + ` AND ` + ors(150) + `","ExpressionAttributeValues":{":v":{"S":"x"}}`},
				{"redundant parentheses", `"ConditionExpression":"((attribute_not_exists(a)))"`},
				{"parentheses around a comparison", `"ConditionExpression":"(a = :v) OR (b = :v)","ExpressionAttributeValues":{":v":{"S":"x"}}`},
				{"IN of 100 values", `"ConditionExpression":"a IN (` + strings.TrimSuffix(strings.Repeat(":v,", 100), ",") + `)","ExpressionAttributeValues":{":v":{"S":"x"}}`},
				{"IN of 101 values", `"ConditionExpression":"a IN (` + strings.TrimSuffix(strings.Repeat(":v,", 101), ",") + `)","ExpressionAttributeValues":{":v":{"S":"x"}}`},
				{"function as a condition", `"ConditionExpression":"size(a)"`},
				{"comparison as an operand", `"ConditionExpression":"(a = :v) = :v","ExpressionAttributeValues":{":v":{"S":"x"}}`},
				{"unknown function", `"ConditionExpression":"nothing(a)"`},
				{"function name in another case", `"ConditionExpression":"ATTRIBUTE_NOT_EXISTS(a)"`},
				{"keywords in lower case", `"ConditionExpression":"a = :v or not b = :v and a between :v and :v","ExpressionAttributeValues":{":v":{"S":"x"}}`},
				{"a list index that is too large", `"ConditionExpression":"attribute_not_exists(a[99999999999999999999])"`},
				{"a negative list index", `"ConditionExpression":"attribute_not_exists(a[-1])"`},
				{"an update function in a condition", `"ConditionExpression":"if_not_exists(a, :v) = :v","ExpressionAttributeValues":{":v":{"S":"x"}}`},
			} {
				s.rawNote(ctx, c.what, "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"a"}},`+c.body+`}`)
			}
			for _, c := range []struct{ what, body string }{
				{"projection paths overlap", `"ProjectionExpression":"a, a.b"`},
				{"projection repeats a path", `"ProjectionExpression":"a, a"`},
				{"projection of list elements", `"ProjectionExpression":"l[0], l[1]"`},
				{"projection overlap through names", `"ProjectionExpression":"#a.b, a","ExpressionAttributeNames":{"#a":"a"}`},
				{"projection of a value", `"ProjectionExpression":":v","ExpressionAttributeValues":{":v":{"S":"x"}}`},
			} {
				s.rawNote(ctx, c.what, "GetItem", `{"TableName":"$t","Key":{"pk":{"S":"a"}},`+c.body+`}`)
			}
			for _, c := range []struct{ what, body string }{
				{"update of a function result", `"UpdateExpression":"SET size(a) = :v","ExpressionAttributeValues":{":v":{"S":"x"}}`},
				{"SET of a condition function", `"UpdateExpression":"SET a = attribute_exists(b)"`},
				{"clause twice", `"UpdateExpression":"SET a = :v SET b = :v","ExpressionAttributeValues":{":v":{"S":"x"}}`},
				{"ADD of a non-value", `"UpdateExpression":"ADD a b"`},
				{"SET with three operands", `"UpdateExpression":"SET a = :v + :v + :v","ExpressionAttributeValues":{":v":{"N":"1"}}`},
				{"ADD with a negative number", `"UpdateExpression":"ADD a :v","ExpressionAttributeValues":{":v":{"N":"-1"}}`},
				{"DELETE of a number", `"UpdateExpression":"DELETE a :v","ExpressionAttributeValues":{":v":{"N":"1"}}`},
				{"empty update expression", `"UpdateExpression":""`},
			} {
				s.rawNote(ctx, c.what, "UpdateItem", `{"TableName":"$t","Key":{"pk":{"S":"a"}},"ReturnValues":"ALL_NEW",`+c.body+`}`, "Attributes")
			}
		}},
		{name: "table description", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", gsis: []gsiSpec{{name: "byG", hash: "g:S"}}})
			s.seed(ctx, tbl, item("pk", "a", "g", "x", "v", strings.Repeat("y", 1000)), item("pk", "b"))
			out, err := s.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tbl)})
			s.must("DescribeTable", err)
			d := out.Table
			// DynamoDB Local leaves out TableId, which DynamoDB sets (see
			// TestDescribeTable).
			s.note("items %d, size %d, status %s", aws.ToInt64(d.ItemCount), aws.ToInt64(d.TableSizeBytes), d.TableStatus)
			for _, g := range d.GlobalSecondaryIndexes {
				s.note("index %s: items %d, size %d, arn ends with /index/%s: %t, status %s, projection %s",
					aws.ToString(g.IndexName), aws.ToInt64(g.ItemCount), aws.ToInt64(g.IndexSizeBytes), aws.ToString(g.IndexName),
					strings.HasSuffix(aws.ToString(g.IndexArn), "/index/"+aws.ToString(g.IndexName)), g.IndexStatus, g.Projection.ProjectionType)
			}
		}},
		{name: "error codes", run: func(ctx context.Context, s *side) {
			s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			for _, c := range []struct{ what, op, body string }{
				{"GetItem of an absent table", "GetItem", `{"TableName":"$t2","Key":{"pk":{"S":"a"}}}`},
				{"Query of an absent table", "Query", `{"TableName":"$t2","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"a"}}}`},
				{"Scan of an absent table", "Scan", `{"TableName":"$t2"}`},
				{"DeleteTable of an absent table", "DeleteTable", `{"TableName":"$t2"}`},
				{"UpdateItem of an absent table", "UpdateItem", `{"TableName":"$t2","Key":{"pk":{"S":"a"}}}`},
				{"an attribute value of two types", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"a"},"x":{"S":"a","N":"1"}}}`},
				{"an attribute value of no type", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"a"},"x":{}}}`},
				{"NULL false", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"a"},"x":{"NULL":false}}}`},
				{"a absent key", "GetItem", `{"TableName":"$t","Key":{}}`},
				{"no table name", "GetItem", `{"Key":{"pk":{"S":"a"}}}`},
				{"ReturnValues of a put", "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"a"}},"ReturnValues":"UPDATED_NEW"}`},
				{"unknown ReturnValues", "UpdateItem", `{"TableName":"$t","Key":{"pk":{"S":"a"}},"ReturnValues":"EVERYTHING"}`},
				{"unknown Select", "Scan", `{"TableName":"$t","Select":"SOME"}`},
				{"Limit 0 on a scan", "Scan", `{"TableName":"$t","Limit":0}`},
				{"unknown ReturnConsumedCapacity", "GetItem", `{"TableName":"$t","Key":{"pk":{"S":"a"}},"ReturnConsumedCapacity":"ALL"}`},
				{"BatchGetItem of 101 keys", "BatchGetItem", `{"RequestItems":{"$t":{"Keys":[` + strings.TrimSuffix(strings.Repeat(`{"pk":{"S":"a"}},`, 101), ",") + `]}}}`},
				{"BatchGetItem of no keys", "BatchGetItem", `{"RequestItems":{"$t":{"Keys":[]}}}`},
				{"BatchWriteItem of no requests", "BatchWriteItem", `{"RequestItems":{"$t":[]}}`},
				{"BatchWriteItem of nothing", "BatchWriteItem", `{"RequestItems":{}}`},
			} {
				s.rawNote(ctx, c.what, c.op, c.body)
			}
		}},
	})
}
