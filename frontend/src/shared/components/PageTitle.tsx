// PageTitle: the page's one <h1>, which also names the document
// (useDocumentTitle). `title` is the plain text when the heading holds more
// than text (tags, counts).
import type { CSSProperties, ReactNode } from 'react';
import { Classes } from '@blueprintjs/core';
import { useDocumentTitle } from '../useDocumentTitle';

export function PageTitle({ children, title, style }: { children?: ReactNode; title: string; style?: CSSProperties }) {
  useDocumentTitle(title);
  return (
    <h1 className={Classes.HEADING + ' mg-h1'} style={style}>
      {children ?? title}
    </h1>
  );
}
