// Strings of the settings card where a person changes the jobs they would like
// (their interests: the occupation part of every match, issue #12).
import { addStrings } from "../i18n.js";

addStrings({
  da: {
    "int.title": "Det vil jeg gerne arbejde med",
    "int.hint": "Job, der ligner dine ønsker, kommer først.",
    "int.none": "Du har ikke valgt noget endnu.",
    "int.add": "Tilføj et job",
    "int.remove": "Fjern {label}",
    "int.saved": "Gemt. Listen er opdateret.",
    "int.max": "Du kan højst vælge {n}.",
  },
  en: {
    "int.title": "What I'd like to work with",
    "int.hint": "Jobs like your wishes come first.",
    "int.none": "You have not chosen anything yet.",
    "int.add": "Add a job",
    "int.remove": "Remove {label}",
    "int.saved": "Saved. The list is updated.",
    "int.max": "You can choose at most {n}.",
  },
});
