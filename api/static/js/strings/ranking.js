// Strings of the occupation part and the preference marks on match cards
// (issue #12), and the employer page's work-profile pictures.
import { addStrings } from "../i18n.js";

addStrings({
  da: {
    "rank.occ.wished": "Du vil gerne arbejde som {label} ✓",
    "rank.occ.same_group": "Tæt på {wish}, som du gerne vil",
    "rank.occ.close": "Ligner {wish}, som du gerne vil",
    "rank.occ.skills": "Dine evner passer til {label}",
    "rank.outside": "Passer ikke til dine ønsker",
    "rank.outside.hours": "Andre timer end du ønsker",
    "rank.outside.job_type": "En anden slags job end du valgte",
    "rank.weak": "Ingen af de krævede evner passer",
    "workprofile.title": "Hvordan er jobbet?",
    "workprofile.hint": "Tryk på det billede, der passer bedst. Spring over, hvis du er i tvivl.",
    "quiz.team.job": "Arbejder man alene eller sammen?",
    "quiz.customers.job": "Er der kunder?",
    "quiz.physical.job": "Sidder man ned eller er man i gang?",
    "quiz.variety.job": "Det samme hver dag eller nyt hele tiden?",
    "quiz.early.job": "Skal man møde tidligt?",
    "quiz.late.job": "Skal man arbejde om aftenen?",
  },
  en: {
    "rank.occ.wished": "You'd like to work as {label} ✓",
    "rank.occ.same_group": "Close to {wish}, which you'd like",
    "rank.occ.close": "Like {wish}, which you'd like",
    "rank.occ.skills": "Your skills fit {label}",
    "rank.outside": "Doesn't fit your wishes",
    "rank.outside.hours": "Other hours than you want",
    "rank.outside.job_type": "Another kind of job than you chose",
    "rank.weak": "None of the required skills fit",
    "workprofile.title": "What is the job like?",
    "workprofile.hint": "Tap the picture that fits best. Skip if unsure.",
    "quiz.team.job": "Alone or together?",
    "quiz.customers.job": "Are there customers?",
    "quiz.physical.job": "Sitting down or on the move?",
    "quiz.variety.job": "The same each day or new things?",
    "quiz.early.job": "Early starts?",
    "quiz.late.job": "Evening work?",
  },
});
