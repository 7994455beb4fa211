// The employer form's reminder: a job open to under-15s or light work (children
// in compulsory school) means the employer must inform the parents
// (Arbejdstilsynet; docs/privacy.md, "Parents").
import { addStrings } from "./i18n.js";

addStrings({
  da: {
    "emp.parents": "Unge under 15 eller i skole: Du skal fortælle forældrene om jobbet, arbejdstiden og farerne, før de starter.",
  },
  en: {
    "emp.parents": "Young people under 15 or in school: you must tell the parents about the job, the hours and the risks before they start.",
  },
});

/** Show the reminder when the vacancy may reach under-15s or school children. */
export function updateParentsNotice() {
  const age = document.getElementById("f-age");
  const light = document.getElementById("f-light");
  const note = document.getElementById("f-parents");
  if (!age || !light || !note) return;
  note.hidden = !(Number(age.value) < 15 || light.checked);
}

for (const id of ["f-age", "f-light"]) {
  document.getElementById(id)?.addEventListener("change", updateParentsNotice);
}
