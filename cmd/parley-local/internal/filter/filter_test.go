package filter

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// returned is a MODIFY record as Lambda hands it to notify: a conversation
// moving from waiting to returned.
const returned = `{
  "eventID": "c81e728d9d4c2f636f067f89cc14862c",
  "eventName": "MODIFY",
  "eventVersion": "1.1",
  "eventSource": "aws:dynamodb",
  "awsRegion": "us-east-1",
  "dynamodb": {
    "ApproximateCreationDateTime": 1428537600,
    "Keys": {"id": {"S": "c_1"}},
    "NewImage": {
      "id": {"S": "c_1"}, "status": {"S": "returned"}, "lastSeq": {"N": "42"},
      "agentId": {"S": "agent_7"}, "persistent": {"BOOL": true}, "note": {"NULL": true},
      "tags": {"L": [{"S": "vip"}, {"S": "billing"}]}
    },
    "OldImage": {
      "id": {"S": "c_1"}, "status": {"S": "waiting"}, "lastSeq": {"N": "41"},
      "agentId": {"S": "agent_7"}, "persistent": {"BOOL": true}
    },
    "SequenceNumber": "4421584500000000017450439092",
    "SizeBytes": 59,
    "StreamViewType": "NEW_AND_OLD_IMAGES"
  },
  "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/conversations/stream/2015-06-27T00:48:05.899"
}`

// plain is a generic JSON event for the operators DynamoDB records can't
// exercise (JSON numbers, booleans, null, arrays of objects).
const plain = `{
  "source": "aws.ec2", "region": "us-east-1", "count": 5, "limit": 301.8, "big": 6000000000,
  "zero": 0, "flag": true, "gone": null, "empty": "", "ip": "10.0.0.33", "file": "photo.PNG",
  "resources": ["arn:a", "arn:b"], "nested": {"state": {"status": "running"}},
  "employees": [{"first": "John", "last": "Doe"}, {"first": "Anna", "last": "Smith"}],
  "matrix": [[{"v": 1}], [{"v": 2}]], "none": [], "obj": {}
}`

func TestMatch(t *testing.T) {
	tests := []struct {
		name, pattern, event string
		want                 bool
	}{
		// Exact values.
		{"string", `{"eventName": ["MODIFY"]}`, returned, true},
		{"string other", `{"eventName": ["INSERT"]}`, returned, false},
		{"string is case sensitive", `{"eventName": ["modify"]}`, returned, false},
		{"alternatives", `{"eventName": ["INSERT", "MODIFY"]}`, returned, true},
		{"missing field", `{"nope": ["x"]}`, plain, false},
		{"number", `{"count": [5]}`, plain, true},
		{"number other", `{"count": [6]}`, plain, false},
		{"number equal by value", `{"count": [5.0]}`, plain, true},
		{"number in exponent form", `{"limit": [3.018e2]}`, plain, true},
		{"number outside numeric range matches by text", `{"big": [6000000000]}`, plain, true},
		{"number vs string", `{"count": ["5"]}`, plain, false},
		{"string vs number", `{"region": [1]}`, plain, false},
		{"true", `{"flag": [true]}`, plain, true},
		{"false", `{"flag": [false]}`, plain, false},
		{"true vs string", `{"flag": ["true"]}`, plain, false},
		{"null", `{"gone": [null]}`, plain, true},
		{"null does not match a missing field", `{"nowhere": [null]}`, plain, false},
		{"null vs string", `{"region": [null]}`, plain, false},
		{"empty string", `{"empty": [""]}`, plain, true},
		{"empty string vs text", `{"region": [""]}`, plain, false},
		{"N compares as a string", `{"dynamodb": {"NewImage": {"lastSeq": {"N": ["42"]}}}}`, returned, true},
		{"N is not a JSON number", `{"dynamodb": {"NewImage": {"lastSeq": {"N": [42]}}}}`, returned, false},
		{"BOOL", `{"dynamodb": {"NewImage": {"persistent": {"BOOL": [true]}}}}`, returned, true},

		// Nested objects and AND across fields.
		{"nested", `{"dynamodb": {"NewImage": {"status": {"S": ["returned"]}}}}`, returned, true},
		{"nested AND", `{"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"status": {"S": ["returned"]}}, "OldImage": {"status": {"S": ["waiting"]}}}}`, returned, true},
		{"nested AND one false", `{"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"status": {"S": ["returned"]}}, "OldImage": {"status": {"S": ["active"]}}}}`, returned, false},
		{"repeated key merges by path", `{"dynamodb": {"NewImage": {"status": {"S": ["returned"]}}}, "dynamodb": {"OldImage": {"status": {"S": ["waiting"]}}}}`, returned, true},
		{"repeated key merges by path, false", `{"dynamodb": {"NewImage": {"status": {"S": ["returned"]}}}, "dynamodb": {"OldImage": {"status": {"S": ["active"]}}}}`, returned, false},
		{"repeated leaf keeps the last", `{"eventName": ["INSERT"], "eventName": ["MODIFY"]}`, returned, true},
		{"pattern object vs event string", `{"region": {"x": ["y"]}}`, plain, false},
		{"pattern leaf vs event object", `{"nested": ["running"]}`, plain, false},

		// Arrays in the event.
		{"event array intersects", `{"resources": ["arn:b", "arn:z"]}`, plain, true},
		{"event array no intersection", `{"resources": ["arn:z"]}`, plain, false},
		{"array of objects", `{"employees": {"first": ["Anna"]}}`, plain, true},
		{"array of objects same element", `{"employees": {"first": ["Anna"], "last": ["Smith"]}}`, plain, true},
		{"array of objects across elements", `{"employees": {"first": ["Anna"], "last": ["Doe"]}}`, plain, false},
		{"array of arrays", `{"matrix": {"v": [2]}}`, plain, true},
		{"DynamoDB list", `{"dynamodb": {"NewImage": {"tags": {"L": {"S": ["billing"]}}}}}`, returned, true},
		{"empty event array", `{"none": [{"exists": true}]}`, plain, false},

		// prefix, suffix, equals-ignore-case, exactly, wildcard, cidr.
		{"prefix", `{"dynamodb": {"NewImage": {"agentId": {"S": [{"prefix": "agent_"}]}}}}`, returned, true},
		{"prefix miss", `{"source": [{"prefix": "aws.s3"}]}`, plain, false},
		{"prefix on a number", `{"count": [{"prefix": "5"}]}`, plain, false},
		{"prefix ignore case", `{"source": [{"prefix": {"equals-ignore-case": "AWS."}}]}`, plain, true},
		{"suffix", `{"file": [{"suffix": ".PNG"}]}`, plain, true},
		{"suffix is case sensitive", `{"file": [{"suffix": ".png"}]}`, plain, false},
		{"suffix ignore case", `{"file": [{"suffix": {"equals-ignore-case": ".png"}}]}`, plain, true},
		{"equals-ignore-case", `{"source": [{"equals-ignore-case": "AWS.EC2"}]}`, plain, true},
		{"equals-ignore-case miss", `{"source": [{"equals-ignore-case": "aws.ec"}]}`, plain, false},
		{"exactly", `{"source": [{"exactly": "aws.ec2"}]}`, plain, true},
		{"wildcard", `{"source": [{"wildcard": "aws.*2"}]}`, plain, true},
		{"wildcard several stars", `{"file": [{"wildcard": "p*o.*G"}]}`, plain, true},
		{"wildcard miss", `{"file": [{"wildcard": "*.jpg"}]}`, plain, false},
		{"wildcard escaped star", `{"source": [{"wildcard": "aws\\*"}]}`, plain, false},
		{"cidr", `{"ip": [{"cidr": "10.0.0.0/24"}]}`, plain, true},
		{"cidr miss", `{"ip": [{"cidr": "10.0.1.0/24"}]}`, plain, false},
		{"mixed alternatives", `{"region": ["eu-west-1", {"prefix": "us-"}]}`, plain, true},

		// anything-but.
		{"anything-but value", `{"eventName": [{"anything-but": "REMOVE"}]}`, returned, true},
		{"anything-but value excluded", `{"eventName": [{"anything-but": "MODIFY"}]}`, returned, false},
		{"anything-but list", `{"eventName": [{"anything-but": ["INSERT", "MODIFY"]}]}`, returned, false},
		{"anything-but number", `{"count": [{"anything-but": 5}]}`, plain, false},
		{"anything-but number list", `{"count": [{"anything-but": [1, 2]}]}`, plain, true},
		{"anything-but string matches numbers", `{"count": [{"anything-but": "x"}]}`, plain, true},
		{"anything-but prefix", `{"region": [{"anything-but": {"prefix": "eu-"}}]}`, plain, true},
		{"anything-but prefix excluded", `{"region": [{"anything-but": {"prefix": "us-"}}]}`, plain, false},
		{"anything-but suffix", `{"file": [{"anything-but": {"suffix": ".PNG"}}]}`, plain, false},
		{"anything-but ignore case", `{"source": [{"anything-but": {"equals-ignore-case": ["AWS.EC2"]}}]}`, plain, false},
		{"anything-but missing field", `{"nowhere": [{"anything-but": "x"}]}`, plain, false},
		{"anything-but on an object", `{"nested": [{"anything-but": "x"}]}`, plain, false},
		{"anything-but array any element", `{"resources": [{"anything-but": "arn:a"}]}`, plain, true},

		// exists.
		{"exists", `{"dynamodb": {"NewImage": {"status": {"S": [{"exists": true}]}}}}`, returned, true},
		{"exists missing", `{"dynamodb": {"NewImage": {"closedAt": {"S": [{"exists": true}]}}}}`, returned, false},
		{"exists null", `{"gone": [{"exists": true}]}`, plain, true},
		{"exists on an intermediate node", `{"dynamodb": {"NewImage": {"status": [{"exists": true}]}}}`, returned, false},
		{"exists inside a list", `{"dynamodb": {"NewImage": {"tags": {"L": {"S": [{"exists": true}]}}}}}`, returned, true},
		{"not exists", `{"dynamodb": {"OldImage": {"tags": {"L": [{"exists": false}]}}}}`, returned, true},
		{"not exists present", `{"dynamodb": {"NewImage": {"status": {"S": [{"exists": false}]}}}}`, returned, false},
		{"not exists on an intermediate node", `{"nested": {"state": [{"exists": false}]}}`, plain, true},
		{"not exists on an empty object", `{"obj": [{"exists": false}]}`, plain, true},
		{"not exists on an empty array", `{"none": [{"exists": false}]}`, plain, true},
		{"not exists below a missing node", `{"nowhere": {"deeper": [{"exists": false}]}}`, plain, true},
		{"not exists below a string", `{"region": {"deeper": [{"exists": false}]}}`, plain, true},
		{"not exists below an empty array", `{"none": {"x": [{"exists": false}]}}`, plain, true},
		{"value below a missing node", `{"nowhere": {"deeper": ["x"]}}`, plain, false},
		{"not exists looks across array elements", `{"employees": {"first": ["John"], "last": [{"exists": false}]}}`, plain, false},
		{"not exists or value", `{"region": ["eu-west-1", {"exists": false}]}`, plain, false},
		{"not exists or value, absent", `{"zone": ["eu-west-1", {"exists": false}]}`, plain, true},

		// numeric.
		{"numeric =", `{"count": [{"numeric": ["=", 5]}]}`, plain, true},
		{"numeric = other", `{"count": [{"numeric": ["=", 4]}]}`, plain, false},
		{"numeric >", `{"count": [{"numeric": [">", 4]}]}`, plain, true},
		{"numeric > edge", `{"count": [{"numeric": [">", 5]}]}`, plain, false},
		{"numeric >= edge", `{"count": [{"numeric": [">=", 5]}]}`, plain, true},
		{"numeric <", `{"count": [{"numeric": ["<", 5]}]}`, plain, false},
		{"numeric <=", `{"count": [{"numeric": ["<=", 5]}]}`, plain, true},
		{"numeric range", `{"count": [{"numeric": [">", 0, "<=", 5]}]}`, plain, true},
		{"numeric range out", `{"limit": [{"numeric": [">", 0, "<", 300]}]}`, plain, false},
		{"numeric range zero", `{"zero": [{"numeric": [">=", 0, "<", 1]}]}`, plain, true},
		{"numeric beyond 5e9 never matches", `{"big": [{"numeric": [">", 0]}]}`, plain, false},
		{"numeric on a string", `{"region": [{"numeric": [">", 0]}]}`, plain, false},
		{"numeric on DynamoDB N never matches", `{"dynamodb": {"NewImage": {"lastSeq": {"N": [{"numeric": [">", 0]}]}}}}`, returned, false},

		// $or.
		{"$or first", `{"$or": [{"eventName": ["MODIFY"]}, {"nope": ["x"]}]}`, returned, true},
		{"$or second", `{"$or": [{"eventName": ["INSERT"]}, {"eventSource": ["aws:dynamodb"]}]}`, returned, true},
		{"$or none", `{"$or": [{"eventName": ["INSERT"]}, {"eventName": ["REMOVE"]}]}`, returned, false},
		{"$or with AND outside", `{"eventName": ["MODIFY"], "$or": [{"awsRegion": ["eu-west-1"]}, {"eventSource": ["aws:dynamodb"]}]}`, returned, true},
		{"$or with AND outside false", `{"eventName": ["INSERT"], "$or": [{"awsRegion": ["us-east-1"]}, {"eventSource": ["aws:dynamodb"]}]}`, returned, false},
		{"$or nested", `{"dynamodb": {"$or": [{"NewImage": {"status": {"S": ["queued"]}}}, {"OldImage": {"status": {"S": ["waiting"]}}}]}}`, returned, true},
		{"$or inside $or", `{"$or": [{"eventName": ["INSERT"]}, {"eventSource": ["aws:dynamodb"], "$or": [{"awsRegion": ["eu-west-1"]}, {"eventVersion": ["1.1"]}]}]}`, returned, true},
		{"parallel $or", `{"$or": [{"eventName": ["INSERT"]}, {"eventName": ["MODIFY"]}], "dynamodb": {"$or": [{"Keys": {"id": {"S": ["c_9"]}}}, {"Keys": {"id": {"S": ["c_1"]}}}]}}`, returned, true},
		{"$or keeps array consistency", `{"employees": {"first": ["Anna"]}, "$or": [{"employees": {"last": ["Doe"]}}, {"source": ["aws.s3"]}]}`, plain, false},
		{"$or and array consistency, same element", `{"employees": {"first": ["Anna"]}, "$or": [{"employees": {"last": ["Smith"]}}, {"source": ["aws.s3"]}]}`, plain, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(tt.pattern)
			if err != nil {
				t.Fatalf("Compile(%s) = %v", tt.pattern, err)
			}
			if got := p.Match([]byte(tt.event)); got != tt.want {
				t.Errorf("Compile(%s).Match(event) = %v; want %v", tt.pattern, got, tt.want)
			}
		})
	}
}

func TestCompileInvalid(t *testing.T) {
	tests := []struct {
		pattern, want string // want is a fragment of the error
	}{
		{``, "unexpected end"},
		{`not json`, "invalid JSON"},
		{`["a"]`, "not a JSON object"},
		{`"a"`, "not a JSON object"},
		{`{}`, "empty object"},
		{`{"a": {}}`, "empty object"},
		{`{"a": "x"}`, `"a" must be an object or an array`},
		{`{"a": 1}`, `"a" must be an object or an array`},
		{`{"a": []}`, "empty arrays"},
		{`{"a": [["x"]]}`, "match value must be"},
		{`{"a": ["x"]} {"b": ["y"]}`, "after the pattern"},
		{`{"a": ["x"]`, "unexpected end"},
		{`{"a": [{}]}`, "no operator"},
		{`{"a": [{"regex": "x"}]}`, `unrecognized match type "regex"`},
		{`{"a": [{"prefix": 1}]}`, "prefix match pattern must be a string"},
		{`{"a": [{"prefix": {"other": "x"}}]}`, "prefix accepts"},
		{`{"a": [{"suffix": ["x"]}]}`, "suffix match pattern must be a string"},
		{`{"a": [{"prefix": "x", "suffix": "y"}]}`, "only one key"},
		{`{"a": [{"equals-ignore-case": 1}]}`, "must be a string"},
		{`{"a": [{"exists": "yes"}]}`, "exists must be true or false"},
		{`{"a": [{"wildcard": "a**b"}]}`, "consecutive"},
		{`{"a": [{"wildcard": "a\\b"}]}`, "backslash"},
		{`{"a": [{"cidr": "10.0.0.0"}]}`, "cidr"},
		{`{"a": [{"numeric": 5}]}`, "must be an array"},
		{`{"a": [{"numeric": []}]}`, "at least one operator"},
		{`{"a": [{"numeric": ["=", "5"]}]}`, "must be numeric"},
		{`{"a": [{"numeric": ["==", 5]}]}`, "unrecognized numeric range operator"},
		{`{"a": [{"numeric": ["<", 5, ">", 1]}]}`, "too many elements"},
		{`{"a": [{"numeric": [">", 5, ">", 1]}]}`, "bad numeric range operator"},
		{`{"a": [{"numeric": [">", 1, "<", 5, "<", 9]}]}`, "too many elements"},
		{`{"a": [{"numeric": ["=", 5, "<", 9]}]}`, "too many elements"},
		{`{"a": [{"numeric": [">", 5, "<", 1]}]}`, "is empty"},
		{`{"a": [{"numeric": [">", 6e9]}]}`, "between -5e9 and 5e9"},
		{`{"a": [{"numeric": [">"]}]}`, "operator, number pairs"},
		{`{"a": [{"anything-but": []}]}`, "at least one"},
		{`{"a": [{"anything-but": ["x", 1]}]}`, "only strings or only numbers"},
		{`{"a": [{"anything-but": [true]}]}`, "only strings or only numbers"},
		{`{"a": [{"anything-but": null}]}`, "must be an array"},
		{`{"a": [{"anything-but": {"prefix": ""}}]}`, "must not be empty"},
		{`{"a": [{"anything-but": {"wildcard": "x*"}}]}`, "unsupported anything-but pattern"},
		{`{"a": [{"anything-but": {"equals-ignore-case": [1]}}]}`, "only strings"},
		{`{"a": [{"anything-but": "x", "prefix": "y"}]}`, "only one key"},
		{`{"$or": {"a": ["x"]}}`, "$or must be followed by an array"},
		{`{"$or": [{"a": ["x"]}]}`, "at least 2"},
		{`{"$or": [{"a": ["x"]}, "b"]}`, "only hold JSON objects"},
		{`{"$or": [{"a": ["x"]}, {"prefix": ["y"]}]}`, "reserved word"},
		{`{"$or": [{"a": ["x"]}, {}]}`, "empty object"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			p, err := Compile(tt.pattern)
			if err == nil {
				t.Fatalf("Compile(%s) = %v, nil; want error containing %q", tt.pattern, p, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Compile(%s) = %v; want error containing %q", tt.pattern, err, tt.want)
			}
		})
	}
}

func TestCriteria(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		event    string
		want     bool
	}{
		{"empty criteria pass everything", nil, returned, true},
		{"empty criteria pass non-JSON", nil, `not json`, true},
		{"one of several", []string{`{"eventName": ["INSERT"]}`, `{"eventName": ["MODIFY"]}`}, returned, true},
		{"none of several", []string{`{"eventName": ["INSERT"]}`, `{"eventName": ["REMOVE"]}`}, returned, false},
		{"non-JSON event", []string{`{"eventName": ["INSERT"]}`}, `not json`, false},
		{"non-object event", []string{`{"eventName": ["INSERT"]}`}, `["INSERT"]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := CompileAll(tt.patterns...)
			if err != nil {
				t.Fatalf("CompileAll(%q) = %v", tt.patterns, err)
			}
			if got := c.Match([]byte(tt.event)); got != tt.want {
				t.Errorf("CompileAll(%q).Match(%.20q) = %v; want %v", tt.patterns, tt.event, got, tt.want)
			}
		})
	}
}

func TestCompileAllNamesTheBadFilter(t *testing.T) {
	_, err := CompileAll(`{"a": ["x"]}`, `{"a": "x"}`)
	if err == nil || !strings.Contains(err.Error(), "filter 1") {
		t.Errorf("CompileAll(good, bad) = %v; want an error naming filter 1", err)
	}
}

// TestMarshalledRecord runs patterns against what the streams runner feeds
// the filter: an events.DynamoDBEventRecord marshalled by encoding/json.
func TestMarshalledRecord(t *testing.T) {
	rec := events.DynamoDBEventRecord{
		EventName:      "MODIFY",
		EventSource:    "aws:dynamodb",
		EventSourceArn: "arn:aws:dynamodb:us-east-1:123456789012:table/conversations/stream/x",
		Change: events.DynamoDBStreamRecord{
			ApproximateCreationDateTime: events.SecondsEpochTime{Time: time.Unix(1705751700, 0)},
			Keys:                        map[string]events.DynamoDBAttributeValue{"id": events.NewStringAttribute("c_1")},
			NewImage: map[string]events.DynamoDBAttributeValue{
				"status":  events.NewStringAttribute("returned"),
				"lastSeq": events.NewNumberAttribute("42"),
			},
			OldImage: map[string]events.DynamoDBAttributeValue{
				"status": events.NewStringAttribute("waiting"),
			},
			SequenceNumber: "100",
			StreamViewType: "NEW_AND_OLD_IMAGES",
		},
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		pattern string
		want    bool
	}{
		{`{"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"status": {"S": ["returned"]}}, "OldImage": {"status": {"S": ["waiting"]}}}}`, true},
		{`{"dynamodb": {"NewImage": {"lastSeq": {"N": ["42"]}}}}`, true},
		{`{"dynamodb": {"NewImage": {"lastSeq": {"N": [{"numeric": ["=", 42]}]}}}}`, false},
		{`{"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 1700000000]}]}}`, true},
		{`{"eventSourceARN": [{"prefix": "arn:aws:dynamodb:us-east-1:123456789012:table/conversations/"}]}`, true},
	}
	for _, tt := range tests {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Fatalf("Compile(%s) = %v", tt.pattern, err)
		}
		if got := p.Match(raw); got != tt.want {
			t.Errorf("Compile(%s).Match(record) = %v; want %v", tt.pattern, got, tt.want)
		}
	}
}
