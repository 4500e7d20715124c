package filter

import "testing"

// FuzzCompile: no pattern, however malformed, crashes or hangs the parser
// or the matcher; a pattern that compiles matches any event without
// crashing, and prints as what it was compiled from.
func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		`{"eventName":["MODIFY"],"dynamodb":{"NewImage":{"status":{"S":["returned"]}}}}`,
		`{"dynamodb":{"NewImage":{"n":{"N":[{"numeric":[">",0,"<=",5]}]}}}}`,
		`{"a":[{"prefix":"x"}],"b":[{"anything-but":["y",1]}],"c":[{"exists":false}]}`,
		`{"a":[{"suffix":"z"},{"equals-ignore-case":"Q"},{"wildcard":"a*b"}]}`,
		`{"$or":[{"a":[1]},{"b":[2]}]}`,
		`{"a":[{"cidr":"10.0.0.0/24"}]}`,
		`{}`, `[]`, `{"a":[]}`, `{"a":{}}`, `{"a":[null,true,1e400]}`, `{"a":[{"numeric":["="]}]}`,
	} {
		f.Add(seed, `{"eventName":"MODIFY","dynamodb":{"NewImage":{"status":{"S":"returned"},"n":{"N":"3"}}},"a":"xyz","b":"q","c":1}`)
	}
	f.Fuzz(func(t *testing.T, pattern, event string) {
		p, err := Compile(pattern)
		if err != nil {
			return
		}
		if p.String() != pattern {
			t.Errorf("String() = %q; want the source %q", p.String(), pattern)
		}
		p.Match([]byte(event))
		if c, err := CompileAll(pattern, pattern); err == nil {
			c.Match([]byte(event))
		}
	})
}
