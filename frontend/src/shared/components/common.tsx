// Shared by the seller's admin pages (Notifications, Customers, Offers,
// Users, Audit, Settings): who is signed in, the "not allowed" state, URL
// filters, a collapsible JSON viewer, copy buttons and keyboard navigation.
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { Button, InputGroup, NonIdealState, Tooltip } from '@blueprintjs/core';
import { useTranslation } from 'react-i18next';
import { queryKeys, type Role, type Me } from '../api';
import './admin.css';

/** The signed-in user (the App loads it before any page renders). */
export function useMe(): Me | undefined {
  return useQueryClient().getQueryData<{ user: Me }>(queryKeys.me)?.user;
}

export const SELLER: Role[] = ['admin', 'operator', 'viewer'];
export const WRITERS: Role[] = ['admin', 'operator'];
export const ADMINS: Role[] = ['admin'];

/**
 * Renders the page only for the given roles; anyone else (a customer admin
 * following a link, an operator opening an admin page) sees a clear
 * "not allowed" state instead of a failed request.
 */
export function RequireRole({ roles, what, children }: { roles: Role[]; what: string; children: ReactNode }) {
  const me = useMe();
  if (me && roles.includes(me.role)) return <>{children}</>;
  const description =
    me?.role === 'customer_admin'
      ? `${what[0].toUpperCase() + what.slice(1)} belongs to the seller's staff. Your account manages your own organisation's subscriptions, seats and admins.`
      : roles.length === 1 && roles[0] === 'admin'
        ? `Only admins may open ${what}. Ask an admin if you need it.`
        : `Your role (${me?.role ?? 'none'}) may not open ${what}.`;
  return (
    <div data-testid="not-allowed">
      <NonIdealState icon="lock" title="Not allowed" description={description} action={<Link to="/">Go to the dashboard</Link>} />
    </div>
  );
}

/** The page's filters in the URL: set() changes some and returns to the first page. */
export function useUrlFilters() {
  const [params, setParams] = useSearchParams();
  const get = (k: string) => params.get(k) ?? '';
  const set = (changes: Record<string, string | number | null | undefined>, keepPage = false) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === '' || v === null || v === undefined) next.delete(k);
      else next.set(k, String(v));
    }
    if (!keepPage) next.delete('offset');
    setParams(next);
  };
  const num = (k: string, def: number) => {
    const n = Number(params.get(k));
    return Number.isFinite(n) && n > 0 ? n : def;
  };
  return { params, get, set, num };
}

/**
 * A text filter bound to one URL parameter: typing updates the URL after a
 * short pause (Enter at once), and the box follows the URL when it changes
 * (back button, links).
 */
export function FilterText(props: {
  value: string;
  onCommit: (v: string) => void;
  label: string;
  placeholder?: string;
  width?: number;
  icon?: 'search' | 'filter' | 'user' | 'tag' | 'th-filtered';
  inputRef?: React.Ref<HTMLInputElement>;
  type?: string;
  /** The id of a <datalist> of suggestions. */
  list?: string;
}) {
  const { value, onCommit } = props;
  const [text, setText] = useState(value);
  const [seen, setSeen] = useState(value);
  if (seen !== value) {
    // The URL changed from elsewhere: show it.
    setSeen(value);
    setText(value);
  }
  const latest = useRef(onCommit);
  useEffect(() => {
    latest.current = onCommit;
  });
  useEffect(() => {
    if (text.trim() === value) return;
    const t = setTimeout(() => latest.current(text.trim()), 350);
    return () => clearTimeout(t);
  }, [text, value]);
  return (
    <InputGroup
      inputRef={props.inputRef}
      type={props.type ?? 'search'}
      leftIcon={props.icon ?? 'filter'}
      placeholder={props.placeholder}
      aria-label={props.label}
      title={props.label}
      value={text}
      list={props.list}
      style={{ width: props.width ?? 180 }}
      onValueChange={setText}
      onKeyDown={(e) => {
        if (e.key === 'Enter' && text.trim() !== value) onCommit(text.trim());
        if (e.key === 'Escape' && text) {
          setText('');
          onCommit('');
        }
      }}
    />
  );
}

export function CopyButton({ text, label, small = true }: { text: string; label?: string; small?: boolean }) {
  const { t } = useTranslation('common');
  const [done, setDone] = useState(false);
  useEffect(() => {
    if (!done) return;
    const t = setTimeout(() => setDone(false), 1500);
    return () => clearTimeout(t);
  }, [done]);
  return (
    <Tooltip content={t('copied')} isOpen={done} placement="top">
      <Button
        small={small}
        minimal
        icon={done ? 'tick' : 'duplicate'}
        text={label ?? t('copy')}
        onClick={() => {
          void navigator.clipboard?.writeText(text).catch(() => {});
          setDone(true);
        }}
      />
    </Tooltip>
  );
}

/** Whether a key goes to a control of its own (a box, a button, a link, a menu) rather than the list. */
function ownKeys(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return ['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON', 'A'].includes(el.tagName) || el.isContentEditable || !!el.closest('[role=menu], [role=tablist], nav');
}

/** Focuses a list row (focusable from script only, unless it is already) and brings it into view. */
export function focusRow(el: HTMLElement) {
  if (!el.hasAttribute('tabindex')) el.tabIndex = -1;
  if (document.activeElement !== el) el.focus({ preventScroll: true });
  el.scrollIntoView?.({ block: 'nearest' });
}

/**
 * Keyboard navigation of a list: ↑/↓ (or k/j) move the selection, Enter
 * opens the selected row, "/" focuses the search box. The selected row
 * takes the focus (screen readers announce it). Ignored while a
 * control has the focus (typing, a button, a link) or a dialog is open.
 */
export function useRowKeys(count: number, open: (index: number) => void, search?: React.RefObject<HTMLInputElement | null>) {
  const [selected, setSelected] = useState(-1);
  const sel = Math.min(selected, count - 1);
  const handler = useRef<(e: KeyboardEvent) => void>(() => {});
  useEffect(() => {
    handler.current = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
      // "/" works from anywhere but a text box; the arrows and Enter only when no control has the focus.
      if (e.key === '/' ? ['INPUT', 'SELECT', 'TEXTAREA'].includes((e.target as HTMLElement)?.tagName) : ownKeys(e.target)) return;
      if (document.body.classList.contains('bp6-overlay-open')) return;
      if (e.key === '/' && search?.current) {
        e.preventDefault();
        search.current.focus();
      } else if ((e.key === 'ArrowDown' || e.key === 'j') && count > 0) {
        e.preventDefault();
        setSelected(Math.min(count - 1, sel + 1));
      } else if ((e.key === 'ArrowUp' || e.key === 'k') && count > 0) {
        e.preventDefault();
        setSelected(Math.max(0, sel - 1));
      } else if (e.key === 'Enter' && sel >= 0) {
        e.preventDefault();
        open(sel);
      }
    };
  });
  useEffect(() => {
    const h = (e: KeyboardEvent) => handler.current(e);
    document.addEventListener('keydown', h);
    return () => document.removeEventListener('keydown', h);
  }, []);
  // The selected row takes the focus, so a screen reader announces it.
  const rowRef = useCallback((el: HTMLTableRowElement | null) => {
    if (!el) return;
    focusRow(el);
  }, []);
  return { selected: sel, setSelected, rowRef };
}

/** Why a field was refused: the server says "field: what is wrong". */
export function fieldError(message: string | undefined, field: string): string | undefined {
  if (!message) return undefined;
  return message.startsWith(field + ':') || message.startsWith(field + ' ') ? message : undefined;
}

// ---- JSON viewer ----

export { JsonTree } from './JsonTree';
export { TimeRange, toLocalInput, fromLocalInput } from './TimeRange';
