import { useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, Dialog, DialogBody, DialogFooter, FormGroup, H6, InputGroup } from '@blueprintjs/core';
import { api, queryKeys, type TypeInfo, type WebhookEndpoint } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';
import { choiceOf, choiceValid, TypePicker, typesOf, type TypeChoice } from '../../shared/components/TypePicker';
import { TEST_EVENT, choosable } from './webhookShared';

// EndpointDialog creates an endpoint (then shows its secret, once) or edits one.
export function EndpointDialog({ ep, eventTypes, onClose }: { ep?: WebhookEndpoint; eventTypes: TypeInfo[]; onClose: () => void }) {
  const qc = useQueryClient();
  const [url, setUrl] = useState(ep?.url ?? '');
  const [description, setDescription] = useState(ep?.description ?? '');
  const [types, setTypes] = useState<TypeChoice>(choiceOf(ep?.event_types ?? ['*']));
  const [created, setCreated] = useState<{ endpoint: WebhookEndpoint; secret: string } | null>(null);
  const save = useMutation({
    mutationFn: () => {
      const body = { url: url.trim(), description: description.trim(), event_types: typesOf(types) };
      return ep
        ? api.webhooks.update(ep.id, body)
        : api.webhooks.create(body);
    },
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: queryKeys.webhooks });
      if (!ep && r.secret) setCreated({ endpoint: r.endpoint, secret: r.secret });
      else onClose();
    },
  });
  if (created) {
    return (
      <Dialog isOpen title="Endpoint added" onClose={onClose} canOutsideClickClose={false} style={{ width: 680 }}>
        <DialogBody>
          <p>
            Events now go to <strong>{created.endpoint.url}</strong>. Press <em>Send test event</em> on its page to try it.
          </p>
          <SecretBox secret={created.secret} />
        </DialogBody>
        <DialogFooter
          actions={
            <>
              <Link to={`/webhooks/${created.endpoint.id}`} onClick={onClose} className={Classes.BUTTON}>
                Open the endpoint
              </Link>
              <Button intent="primary" text="Done" onClick={onClose} />
            </>
          }
        />
      </Dialog>
    );
  }
  const urlOk = /^https?:\/\/\S+$/i.test(url.trim());
  return (
    <Dialog isOpen title={ep ? 'Edit webhook endpoint' : 'Add webhook endpoint'} onClose={onClose} style={{ width: 720 }}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (urlOk && choiceValid(types)) save.mutate();
        }}
      >
        <DialogBody>
          <FormGroup label="URL" labelFor="wh-url" helperText="Events are POSTed here as JSON. Use https:// outside a test setup.">
            <InputGroup id="wh-url" value={url} onValueChange={setUrl} placeholder="https://example.com/marketgate/webhook" autoFocus />
          </FormGroup>
          <FormGroup label="Description (optional)" labelFor="wh-description">
            <InputGroup id="wh-description" value={description} onValueChange={setDescription} maxLength={500} placeholder="billing service" />
          </FormGroup>
          <TypePicker
            name="wh-types"
            label="Event types"
            allLabel="All events, including types added later"
            types={choosable(eventTypes)}
            value={types}
            onChange={setTypes}
          />
          <p className={Classes.TEXT_MUTED}>
            The <code>{TEST_EVENT}</code> event goes to an endpoint only when you press <em>Send test event</em> on its page.
          </p>
          {save.isError && <ErrorBox error={save.error} title={ep ? 'Not saved' : 'Not added'} />}
        </DialogBody>
        <DialogFooter
          actions={
            <>
              <Button text="Cancel" onClick={onClose} />
              <Button type="submit" intent="primary" text={ep ? 'Save' : 'Add endpoint'} disabled={!urlOk || !choiceValid(types)} loading={save.isPending} />
            </>
          }
        />
      </form>
    </Dialog>
  );
}

// SecretBox shows a signing secret once, with a copy button and how to
// verify a delivery with it.
export function SecretBox({ secret }: { secret: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <>
      <Callout intent="warning" icon="key" title="Copy the signing secret now — it is shown only once" style={{ marginBottom: 12 }}>
        <code className="mg-secret" data-testid="webhook-secret">
          {secret}
        </code>{' '}
        <Button
          small
          icon={copied ? 'tick' : 'duplicate'}
          text={copied ? 'Copied' : 'Copy'}
          onClick={() => void navigator.clipboard?.writeText(secret).then(() => setCopied(true))}
        />
        <div className={Classes.TEXT_MUTED} style={{ marginTop: 4 }}>
          Keep it in your receiver&apos;s configuration. If it is lost, rotate it: the old one stops working at once.
        </div>
      </Callout>
      <H6>Verify every delivery (Standard Webhooks)</H6>
      <p>
        Each delivery carries <code>webhook-id</code> (the event id), <code>webhook-timestamp</code> (Unix seconds) and{' '}
        <code>webhook-signature</code> (<code>v1,</code> and a base64 HMAC-SHA256). Take the part of the secret after <code>whsec_</code>,
        base64-decode it, and compute the HMAC-SHA256 of <code>{'${webhook-id}.${webhook-timestamp}.${raw body}'}</code> with it; the
        delivery is genuine when its base64 equals one of the space-separated <code>v1,</code> signatures. Refuse timestamps more than five
        minutes away, and use <code>webhook-id</code> to ignore an event you have already handled — redeliveries keep it. The Standard
        Webhooks libraries (standardwebhooks.com) do all of this.
      </p>
      <pre className={Classes.CODE_BLOCK} style={{ fontSize: 11 }}>
        {`const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
const signed = \`\${headers['webhook-id']}.\${headers['webhook-timestamp']}.\${rawBody}\`;
const expected = 'v1,' + crypto.createHmac('sha256', key).update(signed).digest('base64');
const ok = headers['webhook-signature'].split(' ').includes(expected);`}
      </pre>
    </>
  );
}
