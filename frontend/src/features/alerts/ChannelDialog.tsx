import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Dialog, DialogBody, DialogFooter, FormGroup, HTMLSelect, InputGroup } from '@blueprintjs/core';
import { api, queryKeys, type TypeInfo, type AlertChannelKind, type AlertChannel } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';
import { choiceOf, choiceValid, TypePicker, typesOf, type TypeChoice } from '../../shared/components/TypePicker';
import { targetHelp } from './alertLabels';

export function ChannelDialog(props: { channel?: AlertChannel; alertTypes: TypeInfo[]; emailConfigured: boolean; onClose: () => void }) {
  const { channel, alertTypes, emailConfigured, onClose } = props;
  const qc = useQueryClient();
  const [kind, setKind] = useState<AlertChannelKind>(channel?.kind ?? (emailConfigured ? 'email' : 'slack'));
  const [name, setName] = useState(channel?.name ?? '');
  const [target, setTarget] = useState(channel?.target ?? '');
  const [types, setTypes] = useState<TypeChoice>(choiceOf(channel?.alert_types ?? ['*']));
  const save = useMutation({
    mutationFn: () => {
      const body = { name: name.trim(), target: target.trim(), alert_types: typesOf(types) };
      return channel
        ? api.alerts.updateChannel(channel.id, body)
        : api.alerts.createChannel({ kind, ...body });
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.alertChannels });
      onClose();
    },
  });
  const noSmtp = kind === 'email' && !emailConfigured;
  const h = targetHelp[kind];
  const ready = name.trim() !== '' && target.trim() !== '' && choiceValid(types) && !(noSmtp && !channel);
  return (
    <Dialog isOpen title={channel ? 'Edit alert channel' : 'Add alert channel'} onClose={onClose} style={{ width: 680 }}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (ready) save.mutate();
        }}
      >
        <DialogBody>
          <FormGroup label="Kind" labelFor="ch-kind" helperText={channel ? 'The kind of a channel cannot change: add a new one instead.' : undefined}>
            <HTMLSelect id="ch-kind" value={kind} disabled={!!channel} onChange={(e) => setKind(e.currentTarget.value as AlertChannelKind)}>
              <option value="email">E-mail</option>
              <option value="slack">Slack</option>
              <option value="teams">Microsoft Teams</option>
            </HTMLSelect>
          </FormGroup>
          {noSmtp && (
            <Callout intent="warning" icon="envelope" style={{ marginBottom: 12 }} data-testid="smtp-needed">
              E-mail is not configured on this server, so e-mail alerts cannot be sent. Set <code>MARKETGATE_SMTP_ADDR</code> (host:port) and{' '}
              <code>MARKETGATE_SMTP_FROM</code> (plus <code>MARKETGATE_SMTP_USERNAME</code> and <code>MARKETGATE_SMTP_PASSWORD</code> if needed)
              and restart Marketgate — or choose Slack or Teams.
            </Callout>
          )}
          <FormGroup label="Name" labelFor="ch-name">
            <InputGroup id="ch-name" value={name} onValueChange={setName} maxLength={200} placeholder="on-call" />
          </FormGroup>
          <FormGroup label={h.label} labelFor="ch-target" helperText={h.help}>
            <InputGroup id="ch-target" type={kind === 'email' ? 'email' : 'url'} value={target} onValueChange={setTarget} placeholder={h.placeholder} />
          </FormGroup>
          <TypePicker name="ch-types" label="Alert types" allLabel="All alerts, including types added later" types={alertTypes} value={types} onChange={setTypes} />
          {save.isError && <ErrorBox error={save.error} title={channel ? 'Not saved' : 'Not added'} />}
        </DialogBody>
        <DialogFooter
          actions={
            <>
              <Button text="Cancel" onClick={onClose} />
              <Button type="submit" intent="primary" text={channel ? 'Save' : 'Add channel'} disabled={!ready} loading={save.isPending} />
            </>
          }
        />
      </form>
    </Dialog>
  );
}
