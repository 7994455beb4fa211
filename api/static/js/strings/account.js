// Strings for the account beyond one phone: passkeys, and the push batch notice.
import { addStrings } from "../i18n.js";

addStrings({
  da: {
    "pk.title": "Log ind på en ny telefon",
    "pk.text": "Lav en adgangsnøgle. Mister du telefonen, logger du ind med den på en ny.",
    "pk.create": "Lav adgangsnøgle",
    "pk.created": "Adgangsnøgle gemt",
    "pk.count": "Adgangsnøgler: {n}",
    "pk.remove": "Fjern",
    "pk.signin": "Jeg har allerede en profil",
    "pk.signin.bad": "Det virkede ikke. Prøv igen, eller brug din nøgle.",
    "pk.unsupported": "Din browser kan ikke bruge adgangsnøgler.",
    "notify.batch": "{n} job i nærheden",
  },
  en: {
    "pk.title": "Sign in on a new phone",
    "pk.text": "Make a passkey. If you lose your phone, sign in with it on a new one.",
    "pk.create": "Make a passkey",
    "pk.created": "Passkey saved",
    "pk.count": "Passkeys: {n}",
    "pk.remove": "Remove",
    "pk.signin": "I already have a profile",
    "pk.signin.bad": "That did not work. Try again, or use your key.",
    "pk.unsupported": "Your browser cannot use passkeys.",
    "notify.batch": "{n} jobs nearby",
  },
});
