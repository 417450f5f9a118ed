package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestInboundKeys: the per-source lists of what may reach the vehicle are
// read as written and checked with the line and key path of each mistake.
func TestInboundKeys(t *testing.T) {
	good := mutate(t, "  baud: 57600\n", "  baud: 57600\n  forward:\n    - url: udp://127.0.0.1:14550\n      inbound: {allow_msg_ids: [11, 23], allow_commands: [400, 176]}\n",
		"mqtt:\n  brokers: [tcp://127.0.0.1:1883]\n", "mqtt:\n  brokers: [tcp://127.0.0.1:1883]\n  mavlink_bridge: true\n  mavlink_bridge_batch: 16\n  mavlink_bridge_inbound: {allow_commands: [300]}\n")
	c, err := Parse([]byte(good), "t.yaml")
	if err != nil {
		t.Fatalf("Parse(inbound lists) = %v, want nil", err)
	}
	want := Inbound{AllowMsgIDs: []int{11, 23}, AllowCommands: []int{400, 176}}
	if diff := cmp.Diff(want, c.Vehicle.Forward[0].Inbound); diff != "" {
		t.Errorf("vehicle.forward[0].inbound (-want +got):\n%s", diff)
	}
	if c.MQTT.MAVLinkBridgeBatch != 16 {
		t.Errorf("mqtt.mavlink_bridge_batch = %d, want 16", c.MQTT.MAVLinkBridgeBatch)
	}
	if diff := cmp.Diff(Inbound{AllowCommands: []int{300}}, c.MQTT.MAVLinkBridgeInbound); diff != "" {
		t.Errorf("mqtt.mavlink_bridge_inbound (-want +got):\n%s", diff)
	}
	back, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Parse(back, "back.yaml")
	if err != nil {
		t.Fatalf("Parse(Marshal(c)) = %v", err)
	}
	if diff := cmp.Diff(c.Vehicle.Forward, c2.Vehicle.Forward); diff != "" {
		t.Errorf("forward after a round trip (-before +after):\n%s", diff)
	}

	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "command message in the message list",
			doc:  mutate(t, "  baud: 57600\n", "  baud: 57600\n  forward:\n    - url: udp://127.0.0.1:14550\n      inbound:\n        allow_msg_ids: [76]\n"),
			want: []string{`t.yaml:11: vehicle.forward[0].inbound.allow_msg_ids[0]: 76 (COMMAND_INT/COMMAND_LONG) is allowed per command: list the MAV_CMD numbers in vehicle.forward[0].inbound.allow_commands instead`},
		},
		{
			name: "command out of range",
			doc:  mutate(t, "  baud: 57600\n", "  baud: 57600\n  forward:\n    - url: udp://127.0.0.1:14550\n      inbound:\n        allow_commands: [400, 70000]\n"),
			want: []string{`t.yaml:11: vehicle.forward[0].inbound.allow_commands[1]: 70000 is out of range (0..65535)`},
		},
		{
			name: "unknown inbound key",
			doc:  mutate(t, "  baud: 57600\n", "  baud: 57600\n  forward:\n    - url: udp://127.0.0.1:14550\n      inbound:\n        allow_cmds: [400]\n"),
			want: []string{`t.yaml:11: vehicle.forward[0].inbound.allow_cmds: unknown key (known keys: allow_msg_ids, allow_commands)`},
		},
		{
			name: "bridge batch without the bridge, and too large",
			doc:  mutate(t, "mqtt:\n  brokers: [tcp://127.0.0.1:1883]\n", "mqtt:\n  brokers: [tcp://127.0.0.1:1883]\n  mavlink_bridge_batch: 65\n"),
			want: []string{
				`t.yaml:5: mqtt.mavlink_bridge_batch: set while mqtt.mavlink_bridge is false (turn the bridge on or remove this key)`,
				`t.yaml:5: mqtt.mavlink_bridge_batch: 65 is out of range (0..64)`,
			},
		},
		{
			name: "bridge lists without the bridge",
			doc:  mutate(t, "mqtt:\n  brokers: [tcp://127.0.0.1:1883]\n", "mqtt:\n  brokers: [tcp://127.0.0.1:1883]\n  mavlink_bridge_inbound:\n    allow_msg_ids: [-1]\n"),
			want: []string{
				`t.yaml:5: mqtt.mavlink_bridge_inbound: set while mqtt.mavlink_bridge is false (turn the bridge on or remove this key)`,
				`t.yaml:6: mqtt.mavlink_bridge_inbound.allow_msg_ids[0]: -1 is out of range (0..16777215)`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "t.yaml")
			if err == nil {
				t.Fatalf("Parse() = nil, want %q", tc.want)
			}
			if diff := cmp.Diff(tc.want, problems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}
