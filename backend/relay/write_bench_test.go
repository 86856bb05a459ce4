package relay

import (
	"bytes"
	"io"
	"net"
	"testing"
)

// BenchmarkWriteFrames measures a writer handing batches of typical entry
// frames to the kernel, copied into one pooled buffer (writeCopied), against
// writev of each frame's header and payload where it lies (net.Buffers).
func BenchmarkWriteFrames(b *testing.B) {
	for _, n := range []int{1, 4, 32, 256} {
		frames := make([][]byte, n)
		for i := range frames {
			frames[i] = bytes.Repeat([]byte("x"), 280) // an entry event with a short text
		}
		for _, mode := range []string{"writev", "copy"} {
			b.Run(mode+"/"+itoa(n), func(b *testing.B) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				defer ln.Close()
				go func() {
					c, err := ln.Accept()
					if err == nil {
						_, _ = io.Copy(io.Discard, c)
					}
				}()
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				tc := c.(*net.TCPConn)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if mode == "writev" {
						err = writeVector(tc, frames)
					} else {
						err = writeCopied(tc, frames)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/frame")
			})
		}
	}
}

// writeVector is the writev alternative, kept here for the comparison.
func writeVector(tc *net.TCPConn, frames [][]byte) error {
	hdr := make([]byte, 0, maxHeader*len(frames))
	bufs := make(net.Buffers, 0, 2*len(frames))
	for _, f := range frames {
		start := len(hdr)
		hdr = appendHeader(hdr, len(f))
		bufs = append(bufs, hdr[start:len(hdr):len(hdr)], f)
	}
	_, err := bufs.WriteTo(tc)
	return err
}

func itoa(n int) string {
	return string(rune('0'+n/100%10)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10))
}
