//go:build race

package fleet

// raceEnabled: the race detector slows the crash test's writer tenfold, and the test checks
// the file system, not concurrency.
const raceEnabled = true
