// Command elect-agent is the Go agent of the shared scenarios:
//
//	python3 tests/scenarios/run.py --agent "bindings-go/elect-agent" --uri file:///tmp/x
//
// It speaks the agent line protocol on stdin/stdout over the Go package (and so over the C ABI).
package main

import (
	"os"

	"github.com/elect-dev/elect/bindings-go/internal/agent"
)

func main() {
	agent.Run(os.Stdin, os.Stdout)
}
