package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// TestEmulatorHelpDocumentsFaults keeps `dbtlink emulator --help` and the README's emulator section true to the
// emulator's fault injection: the control endpoint, every fault kind and the fields a fault takes.
func TestEmulatorHelpDocumentsFaults(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	ios, _, _, _ := TestStreams()
	cmd := NewCmdEmulator(NewFactory(ios), nil)
	words := []string{"/_emulator/faults", "/_emulator/state", `"times"`, `"retry_after"`, "latency",
		string(emulator.FaultStatus), string(emulator.FaultLatency), string(emulator.FaultDrop), string(emulator.FaultCommitThenDrop)}
	for _, w := range words {
		if !strings.Contains(cmd.Long, strings.Trim(w, `"`)) {
			t.Errorf("dbtlink emulator --help does not mention %s", w)
		}
		if !strings.Contains(string(readme), strings.Trim(w, `"`)) {
			t.Errorf("the README does not mention %s", w)
		}
	}
}
