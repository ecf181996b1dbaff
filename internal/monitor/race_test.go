//go:build race

package monitor_test

// raceEnabled: the race detector slows the embedded chain several times
// over, so the longest tests play a shorter stretch under it.
const raceEnabled = true
