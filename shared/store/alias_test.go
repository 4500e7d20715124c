package store

import (
	"maps"
	"testing"
)

func TestAlias(t *testing.T) {
	cases := []struct {
		in, want string
		names    map[string]string
	}{
		{"SET status = :s, #used = #used + :u ADD connections :c", "SET #status = :s, #used = #used + :u ADD #connections :c",
			map[string]string{"#status": "status", "#used": "used", "#connections": "connections"}},
		{"attribute_not_exists(id) OR (remindedAt <= :since)", "attribute_not_exists(#id) OR (#remindedAt <= :since)",
			map[string]string{"#id": "id", "#remindedAt": "remindedAt"}},
		{"capacity = if_not_exists(capacity, :cap) REMOVE onlineKey", "#capacity = if_not_exists(#capacity, :cap) REMOVE #onlineKey",
			map[string]string{"#capacity": "capacity", "#onlineKey": "onlineKey"}},
		{"conversationId = :c AND seq BETWEEN :a AND :b", "#conversationId = :c AND #seq BETWEEN :a AND :b",
			map[string]string{"#conversationId": "conversationId", "#seq": "seq"}},
	}
	for _, c := range cases {
		e := c.in
		names := alias(map[string]string{"#used": "used"}, &e)
		want := maps.Clone(c.names)
		want["#used"] = "used"
		if e != c.want || !maps.Equal(names, want) {
			t.Errorf("alias(%q) = %q %v; want %q %v", c.in, e, names, c.want, want)
		}
	}
}
