// Command e2esmtp is the SMTP server of build/scripts/requests-e2e.sh: a
// real one (emersion/go-smtp, STARTTLS with a certificate made at start,
// AUTH PLAIN), keeping every message it takes. It prints
//
//	ready HOST PORT USER CA_FILE PASSWORD_FILE
//
// for the relay's mail settings, then reads commands on stdin, one a line,
// and answers each with "ok ..." or "err reason":
//
//	mail N      waits for the N-th message; ok TLS=true|false TO=ADDR, and
//	            writes its decoded subject and body to DIR/N.txt
//	quit
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"switchboard/backend/mail/mailtest"
)

func main() {
	dir := flag.String("dir", ".", "where the certificate, the password file and the messages go")
	timeout := flag.Duration("timeout", 45*time.Second, "how long mail N waits")
	flag.Parse()
	sink, err := mailtest.Listen(*dir)
	if err != nil {
		fmt.Println("err", err)
		os.Exit(1)
	}
	defer sink.Close()
	pw, err := sink.PasswordFile()
	if err != nil {
		fmt.Println("err", err)
		os.Exit(1)
	}
	host, port, _ := net.SplitHostPort(sink.Addr)
	fmt.Println("ready", host, port, mailtest.User, sink.CAFile, pw)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch {
		case len(f) == 0:
			continue
		case f[0] == "quit":
			return
		case f[0] == "mail" && len(f) == 2:
			n, err := strconv.Atoi(f[1])
			if err != nil || n < 1 {
				fmt.Println("err mail N: N is a number from 1")
				continue
			}
			got, err := sink.Await(n, *timeout)
			if err != nil {
				fmt.Println("err", err)
				continue
			}
			m := got[n-1]
			text := "Subject: " + m.Header("Subject") + "\n\n" + m.Body()
			if err := os.WriteFile(filepath.Join(*dir, f[1]+".txt"), []byte(text), 0o644); err != nil {
				fmt.Println("err", err)
				continue
			}
			fmt.Printf("ok TLS=%v TO=%s\n", m.TLS, strings.Join(m.To, ","))
		default:
			fmt.Println("err unknown command")
		}
	}
}
