// PayloadViewer shows a stored inbound body: JSON pretty-printed and
// collapsible; for an SNS envelope the inner Message (a JSON string inside
// the JSON) decoded as well; form posts as their fields; anything else raw.
import { useState } from 'react';
import { Button, ButtonGroup, Classes, H6, HTMLTable } from '@blueprintjs/core';
import { CopyButton, JsonTree } from '../../shared/components/common';

export interface DecodedPayload {
  kind: 'json' | 'sns' | 'form' | 'text' | 'empty';
  /** The parsed body (json, sns). */
  json?: unknown;
  /** SNS: the Message field decoded (JSON), or its text when it is not JSON. */
  inner?: unknown;
  innerIsJson?: boolean;
  /** form: the posted fields. */
  fields?: [string, string][];
}

/** Works out what a body is. */
export function decodePayload(body: string, contentType = ''): DecodedPayload {
  if (!body.trim()) return { kind: 'empty' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    if (contentType.includes('x-www-form-urlencoded') || /^[\w.-]+=[^&]*(&[\w.-]+=[^&]*)*$/.test(body.trim())) {
      return { kind: 'form', fields: [...new URLSearchParams(body.trim()).entries()] };
    }
    return { kind: 'text' };
  }
  const o = parsed as Record<string, unknown> | null;
  if (o && typeof o === 'object' && !Array.isArray(o) && typeof o.Message === 'string' && typeof o.Type === 'string') {
    try {
      return { kind: 'sns', json: parsed, inner: JSON.parse(o.Message), innerIsJson: true };
    } catch {
      return { kind: 'sns', json: parsed, inner: o.Message, innerIsJson: false };
    }
  }
  return { kind: 'json', json: parsed };
}

export function PayloadViewer({ body, contentType }: { body: string; contentType?: string }) {
  const decoded = decodePayload(body, contentType);
  const structured = decoded.kind === 'json' || decoded.kind === 'sns' || decoded.kind === 'form';
  const [raw, setRaw] = useState(!structured);
  // Expand/collapse all remounts the trees with a new depth.
  const [depth, setDepth] = useState({ n: 3, v: 0 });
  const tree = (value: unknown, label: string) => <JsonTree key={depth.v} value={value} depth={depth.n} label={label} />;
  return (
    <div className="mg-payload" data-testid="payload">
      <div className="mg-toolbar">
        {structured && (
          <ButtonGroup>
            <Button small text="Pretty" active={!raw} onClick={() => setRaw(false)} />
            <Button small text="Raw" active={raw} onClick={() => setRaw(true)} />
          </ButtonGroup>
        )}
        {!raw && decoded.kind !== 'form' && (
          <>
            <Button small minimal icon="expand-all" text="Expand all" onClick={() => setDepth((d) => ({ n: 99, v: d.v + 1 }))} />
            <Button small minimal icon="collapse-all" text="Collapse all" onClick={() => setDepth((d) => ({ n: 1, v: d.v + 1 }))} />
          </>
        )}
        <CopyButton text={body} label="Copy body" />
        <span className={Classes.TEXT_MUTED}>
          {contentType || 'no content type'} · {new Blob([body]).size} bytes
        </span>
      </div>
      {decoded.kind === 'empty' && <p className={Classes.TEXT_MUTED}>The body is empty.</p>}
      {raw && decoded.kind !== 'empty' && (
        <pre className="mg-payload-raw" data-testid="payload-raw">
          {body}
        </pre>
      )}
      {!raw && decoded.kind === 'json' && tree(decoded.json, 'Body')}
      {!raw && decoded.kind === 'sns' && (
        <>
          <H6>
            Message <span className={Classes.TEXT_MUTED}>— decoded from the SNS envelope&apos;s Message field</span>
          </H6>
          <div data-testid="payload-decoded">
            {decoded.innerIsJson ? tree(decoded.inner, 'Decoded Message') : <pre className="mg-payload-raw">{String(decoded.inner)}</pre>}
          </div>
          <H6 style={{ marginTop: 10 }}>SNS envelope</H6>
          <div data-testid="payload-envelope">{tree(decoded.json, 'SNS envelope')}</div>
        </>
      )}
      {!raw && decoded.kind === 'form' && (
        <HTMLTable compact bordered className="mg-table mg-static" aria-label="Form fields" data-testid="payload-form">
          <thead>
            <tr>
              <th>Field</th>
              <th>Value</th>
            </tr>
          </thead>
          <tbody>
            {decoded.fields!.map(([k, v], i) => (
              <tr key={i}>
                <td>
                  <code>{k}</code>
                </td>
                <td className="mg-wrap">{v}</td>
              </tr>
            ))}
          </tbody>
        </HTMLTable>
      )}
    </div>
  );
}
