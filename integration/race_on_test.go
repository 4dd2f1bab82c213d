//go:build race

package integration

// raceBuild makes the engine under test carry the race detector when the
// tests do.
const raceBuild = true
