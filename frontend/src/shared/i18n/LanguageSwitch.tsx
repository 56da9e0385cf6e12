import { HTMLSelect } from '@blueprintjs/core';
import { useTranslation } from 'react-i18next';
import { currentLanguage, LANGUAGES } from '.';

/** The visible language switch: English or Japanese, remembered in this browser. */
export function LanguageSwitch() {
  const { t, i18n } = useTranslation('common');
  return (
    <HTMLSelect
      minimal
      aria-label={t('language')}
      value={currentLanguage()}
      onChange={(e) => void i18n.changeLanguage(e.currentTarget.value)}
      options={LANGUAGES.map((l) => ({ value: l.code, label: l.label }))}
    />
  );
}
