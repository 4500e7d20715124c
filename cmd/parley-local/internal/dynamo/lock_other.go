//go:build !unix

package dynamo

// lockDir does nothing where flock is missing: running two stacks on one
// data directory is then up to the user to avoid.
func lockDir(string) (func() error, error) {
	return func() error { return nil }, nil
}
