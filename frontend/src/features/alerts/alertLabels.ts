import { type AlertChannelKind } from '../../shared/api';

export const kindLabel: Record<AlertChannelKind, string> = { email: 'E-mail', slack: 'Slack', teams: 'Microsoft Teams' };

export const targetHelp: Record<AlertChannelKind, { label: string; placeholder: string; help: string }> = {
  email: { label: 'E-mail address', placeholder: 'ops@example.com', help: 'Alerts are sent to this address through the configured SMTP server.' },
  slack: {
    label: 'Incoming-webhook URL',
    placeholder: 'https://hooks.slack.com/services/T000/B000/XXXX',
    help: 'A Slack incoming webhook (or any endpoint that takes Slack’s {"text": …} message).',
  },
  teams: {
    label: 'Incoming-webhook URL',
    placeholder: 'https://…webhook.office.com/… or a Power Automate workflow URL',
    help: 'A Microsoft Teams incoming webhook or Workflows URL for the channel.',
  },
};

// AlertsPage (/alerts): where alerts go (admins) and what was raised
// recently (seller staff).
