package handlers

import (
	"context"
	"fmt"

	"github.com/perfbot/perfbot/incidents"
)

// OnAlert is the Alertmanager intake's callback: a firing alert opens an incident (channel, responders,
// assessment) or joins the open one; a resolved alert is noted in the incident's channel.
func (in *Incidents) OnAlert(ctx context.Context, a incidents.Alert) error {
	d, err := in.store.HandleAlert(ctx, a)
	if err != nil {
		return fmt.Errorf("handle alert %s: %w", a.Name(), err)
	}
	summary := a.Annotations["summary"]
	if summary == "" {
		summary = a.Name()
	}
	switch d.Action {
	case incidents.AlertOpened:
		_, err := in.Start(context.WithoutCancel(ctx), d.Incident, "alertmanager")
		return err
	case incidents.AlertJoined:
		if d.Incident.ChannelID == "" {
			// Opened before, but the channel was never made (a crash between the two): make it now.
			_, err := in.Start(context.WithoutCancel(ctx), d.Incident, "alertmanager")
			return err
		}
		if d.Recorded {
			return in.ws.Post(ctx, d.Incident.ChannelID, T(IconAlertFiring, Plain("Alert firing: "), Bold(a.Name()), Plain(" — "), Data(summary)))
		}
	case incidents.AlertNoted:
		if d.Recorded && d.Incident.ChannelID != "" {
			return in.ws.Post(ctx, d.Incident.ChannelID, T(IconAlertResolved, Plain("Alert resolved: "), Bold(a.Name()), Plain(" — "), Data(summary)))
		}
	default:
		in.log.Info("alert ignored", "alert", a.Name(), "reason", d.Reason)
	}
	return nil
}
