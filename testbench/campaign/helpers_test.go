package campaign

import "github.com/dockagent/dock-agent/testbench/world"

type worldEvent = world.Event

func mkEvent(seq uint64, typ string) world.Event {
	return world.Event{Seq: seq, Type: typ, Fields: map[string]any{"seq": float64(seq), "type": typ}}
}
