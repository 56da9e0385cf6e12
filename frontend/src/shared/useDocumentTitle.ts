// useDocumentTitle: every page names itself in the browser's tab, history
// and what a screen reader announces on navigation ("Subscriptions ·
// Marketgate"). The title is set while the page is shown.
import { useEffect } from 'react';

export const APP_NAME = 'Marketgate';

export function documentTitle(title: string | undefined): string {
  return title ? `${title} · ${APP_NAME}` : APP_NAME;
}

export function useDocumentTitle(title: string | undefined) {
  useEffect(() => {
    document.title = documentTitle(title);
  }, [title]);
}
