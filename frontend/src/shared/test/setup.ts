// Every component test runs with the portal's catalogues, in English unless
// the test switches (i18n.changeLanguage('ja')).
import i18n from '../i18n';

await i18n.changeLanguage('en');
