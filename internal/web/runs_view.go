package web

import (
	"encoding/json"

	"github.com/dbtlink/dbtlink/internal/tracker"
)

// runSteps decodes a run's stored steps; a run not yet started has none.
func runSteps(raw []byte) []tracker.Step {
	var steps []tracker.Step
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &steps) // written by the tracker; unreadable means none to show
	}
	return steps
}

// failingNodes decodes a failed run's failing nodes.
func failingNodes(raw []byte) []tracker.FailingNode {
	var nodes []tracker.FailingNode
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &nodes)
	}
	return nodes
}
