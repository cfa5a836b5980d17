package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"
)

// QMPCommand runs one command without arguments ("cont", "stop",
// "system_reset", "quit") on the QEMU machine protocol socket at path.
func QMPCommand(ctx context.Context, path, command string) error {
	_, err := QMPQuery(ctx, path, command)
	return err
}

// QMPQuery runs one command without arguments and returns its reply's
// "return" value ("query-status": {"running": true, "status": ...}).
func QMPQuery(ctx context.Context, path, command string) (json.RawMessage, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("QMP %s: %w", path, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(10 * time.Second))
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	dec := json.NewDecoder(conn)
	enc := json.NewEncoder(conn)
	var greeting map[string]json.RawMessage
	if err := dec.Decode(&greeting); err != nil {
		return nil, fmt.Errorf("QMP %s: read greeting: %w", path, err)
	}
	var ret json.RawMessage
	for _, cmd := range []string{"qmp_capabilities", command} {
		if err := enc.Encode(map[string]string{"execute": cmd}); err != nil {
			return nil, fmt.Errorf("QMP %s: send %s: %w", path, cmd, err)
		}
		if ret, err = qmpReply(dec); err != nil {
			return nil, fmt.Errorf("QMP %s: %s: %w", path, cmd, err)
		}
	}
	return ret, nil
}

// qmpReply reads messages up to the command's reply, skipping events.
func qmpReply(dec *json.Decoder) (json.RawMessage, error) {
	for {
		var msg struct {
			Return json.RawMessage `json:"return"`
			Error  *struct {
				Class string `json:"class"`
				Desc  string `json:"desc"`
			} `json:"error"`
			Event string `json:"event"`
		}
		if err := dec.Decode(&msg); err != nil {
			return nil, err
		}
		switch {
		case msg.Error != nil:
			return nil, fmt.Errorf("%s: %s", msg.Error.Class, msg.Error.Desc)
		case msg.Return != nil:
			return msg.Return, nil
		}
	}
}
