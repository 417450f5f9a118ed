package config

// BrokerTLS checks a broker URL as Load does (scheme, host, port) and says
// whether it asks for TLS (ssl://, tls://, wss://). dockctl uses it for
// the -broker flag, so that the operator tool and the agent accept the
// same URLs.
func BrokerTLS(raw string) (bool, error) {
	if err := checkBroker(raw); err != nil {
		return false, err
	}
	return brokerUsesTLS(raw), nil
}
