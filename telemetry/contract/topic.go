package contract

// Topics under the dock's prefix `dock/<id>/` (docs/mqtt-api.md).
const (
	TopicStatus     = "status"      // retained online/offline (the will)
	TopicState      = "state"       // retained dock state
	TopicTelemetry  = "telemetry"   // vehicle telemetry
	TopicEvents     = "events"      // the durable event stream
	TopicMAVLinkIn  = "mavlink/in"  // raw MAVLink bridge, to the vehicle
	TopicMAVLinkOut = "mavlink/out" // raw MAVLink bridge, from the vehicle
)

// ErrorTopicName is the command name of the fixed reply topic
// `cmd/_error/reply`, where a message on a malformed command topic is
// answered (such a topic has no reply topic of its own).
const ErrorTopicName = "_error"

// CommandTopic is the topic a command is published on: prefix is
// `dock/<id>/` with its trailing slash.
func CommandTopic(prefix string, name Command) string { return prefix + "cmd/" + string(name) }

// ReplyTopic is the topic the reply to a command on CommandTopic comes on.
func ReplyTopic(prefix string, name Command) string { return CommandTopic(prefix, name) + "/reply" }
