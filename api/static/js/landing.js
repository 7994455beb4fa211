// The landing page: three doors (jobseeker app, employer page, consultant console).
import { applyI18n, bindLangButton } from "./i18n.js";

applyI18n(document);
bindLangButton(document.getElementById("lang"));
