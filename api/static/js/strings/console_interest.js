// Strings of the console's view of the interest a person sent and the answers,
// and of the occupations they would like (their interests).
import { addStrings } from "../i18n.js";

addStrings({
  da: {
    "con.int.title": "Jeg er interesseret",
    "con.int.none": "Har ikke vist interesse for et job endnu.",
    "con.int.waiting": "Venter på svar",
    "con.int.sent": "Sendt {date}",
    "con.int.answer": "Svar {date}: {reply}",
    "con.int.shared": "Delte",
    "con.int.failed": "Kunne ikke hente interesse.",
    "con.interests": "Ønsker",
  },
  en: {
    "con.int.title": "I'm interested",
    "con.int.none": "Has not shown interest in a job yet.",
    "con.int.waiting": "Waiting for an answer",
    "con.int.sent": "Sent {date}",
    "con.int.answer": "Answer {date}: {reply}",
    "con.int.shared": "Shared",
    "con.int.failed": "Could not fetch the interest.",
    "con.interests": "Would like",
  },
});
