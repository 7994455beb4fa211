// Strings for "Mine enheder": the phones and browsers signed in to the profile.
import { addStrings } from "../i18n.js";

addStrings({
  da: {
    "dev.title": "Mine enheder",
    "dev.text": "Her er du logget ind. Mister du en telefon, så log den ud her.",
    "dev.unknown": "Ukendt enhed",
    "dev.this": "Denne enhed",
    "dev.today": "Brugt i dag",
    "dev.used": "Sidst brugt {date}",
    "dev.signout": "Log ud",
    "dev.signout.label": "Log {name} ud",
    "dev.signout.confirm": "Log {name} ud? Den skal logge ind igen med din adgangsnøgle.",
    "dev.signedout": "{name} er logget ud",
  },
  en: {
    "dev.title": "My devices",
    "dev.text": "You are signed in here. If you lose a phone, sign it out here.",
    "dev.unknown": "Unknown device",
    "dev.this": "This device",
    "dev.today": "Used today",
    "dev.used": "Last used {date}",
    "dev.signout": "Sign out",
    "dev.signout.label": "Sign out {name}",
    "dev.signout.confirm": "Sign out {name}? It will need your passkey to sign in again.",
    "dev.signedout": "{name} is signed out",
  },
});
