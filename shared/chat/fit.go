package chat

import (
	"encoding/json"

	"github.com/parley-chat/parley/shared/wire"
)

// frameMargin keeps a fitted frame this far under the gateway's limit, for
// what the fitting does not count exactly (the separators, a hasMore
// turning true).
const frameMargin = 1024

// fit keeps as many of items as fit, with the rest of a frame of base
// encoded bytes, under API Gateway's 128 KiB: the last ones when fromEnd
// (a page back from the newest), the first ones otherwise (a page
// forward). cut says whether any were left out; the frame then says
// hasMore, and the client asks again from the last seq it got.
func fit[T any](base int, items []T, fromEnd bool) (kept []T, cut bool) {
	budget := wire.MaxFrameBytes - frameMargin - base
	n, used := 0, 0
	for i := range items {
		j := i
		if fromEnd {
			j = len(items) - 1 - i
		}
		b, err := json.Marshal(items[j])
		if err != nil || used+len(b)+1 > budget {
			break
		}
		used += len(b) + 1
		n++
	}
	if n == len(items) {
		return items, false
	}
	if fromEnd {
		return items[len(items)-n:], true
	}
	return items[:n], true
}

// size is how many bytes f encodes to (an unencodable frame counts as too
// large, so it is cut to nothing rather than sent).
func size(f wire.Frame) int {
	b, err := wire.Encode(f)
	if err != nil {
		return wire.MaxFrameBytes
	}
	return len(b)
}
