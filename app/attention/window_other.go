//go:build !desktop || !(linux || windows || darwin)

package attention

// Window does nothing without a window toolkit (the headless build, the
// tests) or on a platform without a way to ask for attention.
func Window(bool) {}
