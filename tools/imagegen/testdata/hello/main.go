// Command hello stands in for a step binary in imagegen's tests: small, so
// cross-compiling it twice is quick.
package main

import "fmt"

func main() { fmt.Println("hello from a step") }
