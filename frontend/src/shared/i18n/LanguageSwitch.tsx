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
      onChange={(e) => {
        const lang = e.currentTarget.value;
        // The buyer pages the server renders follow the same choice (their `lang` cookie).
        document.cookie = `lang=${lang}; path=/; max-age=31536000; samesite=lax`;
        void i18n.changeLanguage(lang);
      }}
      options={LANGUAGES.map((l) => ({ value: l.code, label: l.label }))}
    />
  );
}
