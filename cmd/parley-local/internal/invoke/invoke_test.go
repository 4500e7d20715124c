package invoke

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestConcurrentInvocationsKeepTheirResults: invocations of one function
// that overlap each get their own result back (lambda.NewHandler's handler
// hands out bytes of a pooled buffer that the next invocation reuses; run
// under -race this test also catches the shared write).
func TestConcurrentInvocationsKeepTheirResults(t *testing.T) {
	f := &Function{Name: "Echo", Timeout: 5 * time.Second, Handler: NewHandler(func(_ context.Context, in struct{ N int }) (map[string]any, error) {
		return map[string]any{"n": in.N, "padding": fmt.Sprintf("%0200d", in.N)}, nil
	})}
	var wg sync.WaitGroup
	for n := range 200 {
		wg.Go(func() {
			out, _, err := f.Invoke(context.Background(), []byte(fmt.Sprintf(`{"N":%d}`, n)))
			if err != nil {
				t.Errorf("Invoke(%d) = %v", n, err)
				return
			}
			var got struct{ N int }
			if err := json.Unmarshal(out, &got); err != nil || got.N != n {
				t.Errorf("Invoke(%d) returned %s (%v); want its own result", n, out, err)
			}
		})
	}
	wg.Wait()
}
