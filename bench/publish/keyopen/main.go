// Command keyopen opens a signing key the way gitship-publish does
// (signing.LoadSigner: sigstore's cryptoutils, scrypt for a cosign key
// file) and nothing else, for bench/sign.sh to run beside an unsigned push:
// what opening the key costs the push when it takes the same CPU at the
// same time, apart from signing and attesting.
//
//	GITSHIP_SIGNING_KEY_PASSWORD=... keyopen cosign.key
package main

import (
	"fmt"
	"os"

	"github.com/gitship/gitship/shared/signing"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: keyopen KEY")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	s, err := signing.LoadSigner(data, []byte(os.Getenv("GITSHIP_SIGNING_KEY_PASSWORD")))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(s.KeyID)
}
