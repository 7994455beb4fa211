// "Din jobkonsulent": linking with a consultant by invite code (docs/integrations.md).
import { addStrings } from "../i18n.js";

addStrings({
  da: {
    "link.title": "Din jobkonsulent",
    "link.none": "Har du fået en kode af din jobkonsulent? Skriv den her.",
    "link.code": "Kode",
    "link.consent": "Må din jobkonsulent se dine job-match? Kommunen får besked om dine match og svar, men aldrig hvor du er.",
    "link.yes": "Ja, forbind",
    "link.linked": "Forbundet med {name}",
    "link.sharing": "Din jobkonsulent kan følge dine job-match.",
    "link.leave": "Stop deling",
    "link.leave.confirm": "Stop delingen med din jobkonsulent?",
    "link.left": "Delingen er stoppet",
    "link.wrong": "Koden passer ikke. Tjek den, eller bed om en ny.",
    "link.need_consent": "Sæt hak, hvis du vil forbindes.",
    "invite.button": "Invitér en ung",
    "invite.code": "Koden er {code}. Den virker én gang i {days} dage.",
  },
  en: {
    "link.title": "Your job consultant",
    "link.none": "Got a code from your job consultant? Enter it here.",
    "link.code": "Code",
    "link.consent": "May your job consultant see your job matches? The municipality is told about your matches and answers, never where you are.",
    "link.yes": "Yes, connect",
    "link.linked": "Connected with {name}",
    "link.sharing": "Your job consultant can follow your job matches.",
    "link.leave": "Stop sharing",
    "link.leave.confirm": "Stop sharing with your job consultant?",
    "link.left": "Sharing stopped",
    "link.wrong": "That code does not fit. Check it, or ask for a new one.",
    "link.need_consent": "Tick the box if you want to connect.",
    "invite.button": "Invite a young person",
    "invite.code": "The code is {code}. It works once, for {days} days.",
  },
});
