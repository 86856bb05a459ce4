package main

import (
	"flag"
	"io"
	"slices"
	"testing"
)

// --baseline alone is the in-memory hub; a value after it, with or without
// '=', chooses the hubs; anything else after it stays an argument.
func TestBaselineFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
		rest []string
	}{
		{[]string{"--baseline"}, []string{"memory"}, nil},
		{[]string{"--baseline", "durable"}, []string{"durable"}, nil},
		{[]string{"--baseline", "memory,durable", "--rounds", "3"}, []string{"memory", "durable"}, nil},
		{[]string{"--baseline=durable,durable"}, []string{"durable"}, nil},
		{[]string{"--baseline", "extra"}, []string{"memory"}, []string{"extra"}},
	} {
		var b baselineFlag
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Var(&b, "baseline", "")
		fs.Int("rounds", 1, "")
		if err := fs.Parse(joinBaselineArg(tc.args)); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if !slices.Equal(b, tc.want) || !slices.Equal(fs.Args(), tc.rest) {
			t.Errorf("%v: baselines %v, rest %v; want %v, %v", tc.args, b, fs.Args(), tc.want, tc.rest)
		}
	}
	var b baselineFlag
	if b.Set("postgres") == nil {
		t.Error("an unknown baseline was taken")
	}
}
